"""Sign-in and personal settings forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SubmitField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    Optional,
    ValidationError,
)

from webapp.core.emails import EmailAddress


class LoginForm(FlaskForm):
    """Sign in with email and password."""

    email = EmailField(
        "Email",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        # The same rule that create-user applies: any account can sign in.
        validators=[DataRequired(), EmailAddress()],
    )
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in")
    submit = SubmitField("Sign in")


class SettingsForm(FlaskForm):
    """A member's own settings: training consent and password."""

    training_opt_out = BooleanField(
        "Leave my data out of model training",
        description="Your ratings and your side's collaborations are then never used "
        "to train models (predictions for you still work).",
    )
    current_password = PasswordField(
        "Current password",
        validators=[Optional()],
        description="Only needed to set a new password.",
    )
    new_password = PasswordField(
        "New password",
        validators=[Optional(), Length(min=8, message="Use at least 8 characters.")],
    )
    submit = SubmitField("Save settings")

    def validate_new_password(self, field) -> None:
        """Require the current password whenever a new one is set."""
        if field.data and not self.current_password.data:
            self.current_password.errors.append(
                "Enter your current password to change it."
            )
            raise ValidationError("Confirm with your current password.")
