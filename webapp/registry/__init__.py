"""The registry: installed model types (plugins), artifacts, versions and their reports."""
