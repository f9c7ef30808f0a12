"""Matchloop benchmarks: ``make bench`` (``python -m bench``) writes bench/results.json."""
