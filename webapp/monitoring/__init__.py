"""Live monitoring of served versions (room for the monitoring issue)."""
