"""Job functions run by RQ workers: ids in, results in the database."""
