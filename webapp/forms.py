"""Web forms (Flask-WTF, CSRF on): one field per line with validators and help text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
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
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from webapp import taxonomy
from webapp.models.training import RUN_STATUSES


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """Return select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


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
        choices=options(taxonomy.choices(taxonomy.COMPLETION_STATUSES)),
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
        choices=options([("yes", "Yes"), ("no", "No")]),
        coerce=coerce_yes_no,
        validators=[InputRequired("Say whether you would work together again.")],
    )
    success_factors = MultiCheckboxField(
        "What worked?",
        choices=options(list(taxonomy.SUCCESS_FACTORS.items())),
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
        choices=options([("", "Any niche")] + taxonomy.choices(taxonomy.NICHES)),
        validators=[Optional()],
    )
    rating = SelectField(
        "Rating",
        choices=options([("", "Any rating")] + [(str(r), str(r)) for r in range(1, 6)]),
        validators=[Optional()],
    )
    status = SelectField(
        "Completion",
        choices=options(
            [("", "Any status")] + taxonomy.choices(taxonomy.COMPLETION_STATUSES)
        ),
        validators=[Optional()],
    )
    side = SelectField(
        "Rated by",
        choices=options(
            [
                ("", "Both sides"),
                ("company", "Brand"),
                ("influencer", "Influencer"),
            ]
        ),
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
        choices=options(
            [("", "Any status")] + taxonomy.choices(taxonomy.COLLABORATION_STATUSES)
        ),
        validators=[Optional()],
    )


class TrainForm(FlaskForm):
    """Start a training run; the model type's own params form is shown with it."""

    submit = SubmitField("Start training")


class RegistryActionForm(FlaskForm):
    """Promote a version or roll back, with an optional note for the history."""

    note = StringField(
        "Note",
        validators=[Optional(), Length(max=500)],
        description="Why, for the deployment history (optional).",
    )


class InfluencerSearchForm(FlaskForm):
    """Filter the ranked influencers for a brand (GET, no CSRF needed)."""

    class Meta:
        csrf = False

    company_id = SelectField("Brand", choices=[], validators=[Optional()])
    niche = SelectField(
        "Niche",
        choices=options([("", "Any niche")] + taxonomy.choices(taxonomy.NICHES)),
        validators=[Optional()],
    )
    country = SelectField(
        "Country",
        choices=options([("", "Any country")] + [(c, c) for c in taxonomy.COUNTRIES]),
        validators=[Optional()],
    )
    min_followers = IntegerField(
        "Min. followers", validators=[Optional(), NumberRange(min=0)]
    )
    max_rate = DecimalField(
        "Max. rate per post",
        places=None,
        validators=[Optional(), NumberRange(min=0)],
    )
    limit = IntegerField(
        "Show", default=20, validators=[Optional(), NumberRange(1, 100)]
    )


class BrandSearchForm(FlaskForm):
    """Pick the influencer to rank brands for (GET, admins only) and the list size."""

    class Meta:
        csrf = False

    q = StringField("Find an influencer", validators=[Optional(), Length(max=100)])
    limit = IntegerField(
        "Show", default=20, validators=[Optional(), NumberRange(1, 100)]
    )


class ProposeForm(FlaskForm):
    """Propose a collaboration to one ranked match."""

    influencer_id = HiddenField(validators=[DataRequired(), Length(max=64)])
    company_id = HiddenField(validators=[DataRequired(), Length(max=64)])
    budget = DecimalField(
        "Budget",
        places=None,
        validators=[
            InputRequired("Give a budget."),
            NumberRange(1, 10_000_000, "The budget must be between 1 and 10,000,000."),
        ],
    )


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
