"""Model-type plugins shipped with Matchloop (declared in setup.cfg entry points)."""
