"""Training parameters for risk, shown on the train page."""

from __future__ import annotations

from wtforms import FloatField, Form, IntegerField
from wtforms.validators import InputRequired, NumberRange


class ParamsForm(Form):
    """How to train a risk model."""

    min_failures = IntegerField(
        "Failures before the supervised model",
        default=50,
        validators=[InputRequired(), NumberRange(10, 100_000)],
        description="Rated failures (cancelled, disputed, rated 2 or less) a "
        "training window needs before a failure classifier is blended in.",
    )
    blend_weight = FloatField(
        "Weight of the failure classifier",
        default=0.5,
        validators=[InputRequired(), NumberRange(0.0, 1.0)],
        description="Share of the blended score from the supervised model "
        "(the rest from the anomaly score).",
    )
    medium_from = FloatField(
        "Medium risk from",
        default=60.0,
        validators=[InputRequired(), NumberRange(1.0, 99.0)],
        description="Risk scores at or above this are 'medium'.",
    )
    high_from = FloatField(
        "High risk from",
        default=85.0,
        validators=[InputRequired(), NumberRange(1.0, 99.9)],
        description="Risk scores at or above this are 'high'.",
    )
    n_splits = IntegerField(
        "Validation folds",
        default=4,
        validators=[InputRequired(), NumberRange(2, 8)],
        description="Consecutive time windows the scores are judged on; the last "
        "one only reports.",
    )

    def validate(self, extra_validators=None) -> bool:
        """Also require medium < high."""
        valid = super().validate(extra_validators)
        if valid and self.medium_from.data >= self.high_from.data:
            self.high_from.errors.append("Must be above 'Medium risk from'.")
            return False
        return valid
