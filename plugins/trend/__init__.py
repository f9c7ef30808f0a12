"""The trend model type: forecast each niche's activity, with honest intervals."""
