"""Web forms (Flask-WTF, CSRF on): one field per line with validators and help text."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from webapp import taxonomy


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice rendered as a list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def coerce_yes_no(value: object) -> bool | None:
    """Turn the yes/no radio value into a bool (None when nothing was chosen)."""
    if value in (True, "yes", "true"):
        return True
    if value in (False, "no", "false"):
        return False
    return None


def valid_values(form: FlaskForm) -> dict[str, Any]:
    """Validate a filter form; return its values without the fields that failed.

    A bad value is shown as a field error and ignored; the other filters still apply.
    """
    form.validate()
    return {name: value for name, value in form.data.items() if name not in form.errors}


class LoginForm(FlaskForm):
    """Sign in with email and password."""

    email = EmailField(
        "Email",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[DataRequired(), Email(check_deliverability=False)],
    )
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in")
    submit = SubmitField("Sign in")


class OutcomeForm(FlaskForm):
    """Rate a finished collaboration from your side."""

    success_rating = IntegerField(
        "Overall success (1-5)",
        validators=[
            InputRequired("Give a rating from 1 to 5."),
            NumberRange(
                taxonomy.RATING_MIN, taxonomy.RATING_MAX, "Ratings go from 1 to 5."
            ),
        ],
        description="1 = a failure, 5 = everything you hoped for.",
    )
    completion_status = SelectField(
        "How did it end?",
        choices=taxonomy.choices(taxonomy.COMPLETION_STATUSES),
        validators=[InputRequired()],
    )
    roi_achieved = DecimalField(
        "ROI achieved",
        places=None,
        validators=[
            Optional(),
            NumberRange(-1, 100, "ROI must be between -1 and 100."),
        ],
        description="As a fraction of the spend: 0.25 means +25 %, -0.5 means half lost. "
        "Leave empty if you do not know.",
    )
    would_collaborate_again = RadioField(
        "Would you work together again?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=coerce_yes_no,
        validators=[InputRequired("Say whether you would work together again.")],
    )
    success_factors = MultiCheckboxField(
        "What worked?",
        choices=list(taxonomy.SUCCESS_FACTORS.items()),
        description="Tick everything that went well.",
    )
    feedback = TextAreaField(
        "Feedback",
        validators=[Optional(), Length(max=taxonomy.FEEDBACK_MAX_LENGTH)],
        description=f"Optional, up to {taxonomy.FEEDBACK_MAX_LENGTH} characters.",
    )
    submit = SubmitField("Save rating")


class OutcomeFilterForm(FlaskForm):
    """Filter the admin's outcome list (GET, no CSRF needed)."""

    class Meta:
        csrf = False

    niche = SelectField(
        "Niche",
        choices=[("", "Any niche")] + taxonomy.choices(taxonomy.NICHES),
        validators=[Optional()],
    )
    rating = SelectField(
        "Rating",
        choices=[("", "Any rating")] + [(str(r), str(r)) for r in range(1, 6)],
        validators=[Optional()],
    )
    status = SelectField(
        "Completion",
        choices=[("", "Any status")] + taxonomy.choices(taxonomy.COMPLETION_STATUSES),
        validators=[Optional()],
    )
    side = SelectField(
        "Rated by",
        choices=[
            ("", "Both sides"),
            ("company", "Brand"),
            ("influencer", "Influencer"),
        ],
        validators=[Optional()],
    )
    rated_from = DateField("Rated from", validators=[Optional()])
    rated_to = DateField("Rated until", validators=[Optional()])


class CollaborationFilterForm(FlaskForm):
    """Filter a collaboration list (GET, no CSRF needed)."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), Length(max=100)])
    status = SelectField(
        "Status",
        choices=[("", "Any status")]
        + taxonomy.choices(taxonomy.COLLABORATION_STATUSES),
        validators=[Optional()],
    )
