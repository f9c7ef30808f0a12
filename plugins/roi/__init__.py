"""The roi model type: what return on investment will a collaboration achieve?"""
