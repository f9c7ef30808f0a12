"""A/B experiments on model versions (room for the experiments issue)."""
