"""Learning: point-in-time features and history, training data, training runs, retraining."""
