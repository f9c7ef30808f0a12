"""Training parameters for match_success, shown on the train page."""

from __future__ import annotations

from wtforms import Form, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

ALGORITHM_CHOICES = [
    ("auto", "Choose by time-ordered cross-validation"),
    ("logistic_regression", "Logistic regression (scaled, L2)"),
    ("random_forest", "Random forest"),
    ("gradient_boosting", "Histogram gradient boosting"),
    ("soft_voting", "Soft-voting ensemble of the three"),
]


class ParamsForm(Form):
    """How to train a match_success model."""

    algorithm = SelectField(
        "Algorithm",
        choices=ALGORITHM_CHOICES,
        default="auto",
        description="Pin one algorithm, or let time-ordered cross-validation choose "
        "(ROC AUC first, Brier score breaks ties).",
    )
    n_splits = IntegerField(
        "Validation folds",
        default=4,
        validators=[InputRequired(), NumberRange(2, 8)],
        description="Consecutive time windows each model is scored on.",
    )
    calibration = SelectField(
        "Calibration",
        choices=[("auto", "When the data suffice"), ("none", "Never")],
        default="auto",
        description="Isotonic with 2,000+ held-out predictions, sigmoid with fewer.",
    )
