"""Training parameters for roi, shown on the train page."""

from __future__ import annotations

from wtforms import FloatField, Form, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

ALGORITHM_CHOICES = [
    SelectChoice("auto", "Choose by time-ordered cross-validation"),
    SelectChoice("ridge", "Ridge regression (scaled)"),
    SelectChoice("random_forest", "Random forest"),
    SelectChoice("gradient_boosting", "Histogram gradient boosting"),
]
INTERVAL_CHOICES = [
    SelectChoice("auto", "Choose on held-out windows (coverage first, then width)"),
    SelectChoice("cqr", "Conformalised quantile regression (widths adapt to the pair)"),
    SelectChoice("split", "Split conformal on absolute residuals (one width for all)"),
]


class ParamsForm(Form):
    """How to train an roi model."""

    coverage = FloatField(
        "Interval coverage",
        default=0.9,
        validators=[InputRequired(), NumberRange(0.5, 0.99)],
        description="Share of future outcomes each interval should contain "
        "(0.9 = 90 %).",
    )
    algorithm = SelectField(
        "Algorithm",
        choices=ALGORITHM_CHOICES,
        default="auto",
        description="Pin one regressor, or let time-ordered cross-validation choose "
        "(lowest mean absolute error).",
    )
    interval_method = SelectField(
        "Intervals",
        choices=INTERVAL_CHOICES,
        default="auto",
        description="How the interval around the expected ROI is made; both are "
        "calibrated on the latest window before the one they are judged on.",
    )
    n_splits = IntegerField(
        "Validation folds",
        default=4,
        validators=[InputRequired(), NumberRange(2, 8)],
        description="Consecutive time windows each model is scored on.",
    )
