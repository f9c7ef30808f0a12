"""Training forms: start a run, filter the run list."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    SelectField,
    SubmitField,
)
from wtforms.validators import (
    Optional,
)

from webapp.core.forms import options
from webapp.models.training import RUN_STATUSES


class TrainForm(FlaskForm):
    """Start a training run; the model type's own params form is shown with it."""

    submit = SubmitField("Start training")


class RunFilterForm(FlaskForm):
    """Filter the training runs (GET, no CSRF needed); type choices come from the view."""

    class Meta:
        csrf = False

    type = SelectField("Model type", choices=[], validators=[Optional()])
    status = SelectField(
        "Status",
        choices=options(
            [("", "Any status"), *((s, s.capitalize()) for s in RUN_STATUSES)]
        ),
        validators=[Optional()],
    )
