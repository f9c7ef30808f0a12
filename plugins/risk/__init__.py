"""risk: how likely a proposed collaboration is to fail, and why."""
