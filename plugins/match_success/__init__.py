"""The match_success model type: will this collaboration succeed?"""
