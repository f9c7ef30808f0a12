"""Registry forms: promote or roll back with a note."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional


class RegistryActionForm(FlaskForm):
    """Promote a version or roll back, with an optional note for the history."""

    note = StringField(
        "Note",
        validators=[Optional(), Length(max=500)],
        description="Why, for the deployment history (optional).",
    )


class PromoteForm(RegistryActionForm):
    """Promote a version; one that scores worse than the active one needs ``confirm``."""

    confirm = BooleanField(
        "Promote it anyway",
        description="Needed only when this version scores worse on held-out data "
        "than the active one.",
    )
