"""Training parameters for match_success, shown on the train page."""

from __future__ import annotations

from wtforms import FloatField, Form, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

ALGORITHM_CHOICES = [
    SelectChoice("auto", "Choose by time-ordered cross-validation"),
    SelectChoice("logistic_regression", "Logistic regression (scaled, L2)"),
    SelectChoice("random_forest", "Random forest"),
    SelectChoice("gradient_boosting", "Histogram gradient boosting"),
    SelectChoice("soft_voting", "Soft-voting ensemble of the three"),
]


class ParamsForm(Form):
    """How to train a match_success model."""

    algorithm = SelectField(
        "Algorithm",
        choices=ALGORITHM_CHOICES,
        default="auto",
        description="Pin one algorithm, or let time-ordered cross-validation choose: "
        "the cheapest to serve of those whose held-out ROC AUC is within the "
        "tolerance of the best.",
    )
    auc_tolerance = FloatField(
        "ROC AUC tolerance",
        default=0.002,
        validators=[InputRequired(), NumberRange(0, 0.05)],
        description="How far below the best held-out ROC AUC a cheaper algorithm "
        "may be and still be chosen (0 = always the best).",
    )
    n_splits = IntegerField(
        "Validation folds",
        default=4,
        validators=[InputRequired(), NumberRange(2, 8)],
        description="Consecutive time windows each model is scored on.",
    )
    calibration = SelectField(
        "Calibration",
        choices=[
            SelectChoice("auto", "When the data suffice"),
            SelectChoice("none", "Never"),
        ],
        default="auto",
        description="Isotonic with 2,000+ held-out predictions, sigmoid with fewer.",
    )
