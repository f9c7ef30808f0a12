"""The audit log's filter form (the queue's buttons are CSRF-protected POST forms)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from webapp.core.forms import options
from webapp.operations.audit import ACTIONS


class AuditFilterForm(FlaskForm):
    """Filter the audit log by action, actor and day (GET, no CSRF needed)."""

    class Meta:
        csrf = False

    action = SelectField(
        "Action",
        choices=options([("", "Any action")] + [(name, name) for name in ACTIONS]),
        validators=[Optional()],
    )
    actor = StringField(
        "Actor",
        validators=[Optional(), Length(max=254)],
        description="An e-mail, or cli / system.",
    )
    since = DateField("From", validators=[Optional()])
    until = DateField("Until", validators=[Optional()])

    def validate_until(self, field: DateField) -> None:
        """Refuse an "until" day before the "from" day."""
        start = self.since.data
        if field.data and start and not self.since.errors and field.data < start:
            raise ValidationError(
                f'Must be on or after the "From" date ({start.isoformat()}).'
            )
