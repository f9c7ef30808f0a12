"""Staged rollouts of model versions (room for the rollouts issue)."""
