"""Marketplace forms: ratings, list filters, match searches and proposals."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from webapp.core import taxonomy
from webapp.core.forms import (
    FiniteDecimalField,
    MultiCheckboxField,
    coerce_yes_no,
    options,
)


class StarRatingField(RadioField):
    """A 1-5 rating chosen with radio buttons that the template draws as stars.

    Out-of-range numbers get "Ratings go from 1 to 5.", a missing choice is left
    to ``InputRequired``, so each mistake shows one message.
    """

    def __init__(self, label: str, **kwargs) -> None:
        stars = range(taxonomy.RATING_MIN, taxonomy.RATING_MAX + 1)
        choices = [(n, f"{n} star{'s' if n > 1 else ''}") for n in stars]
        super().__init__(label, choices=options(choices), coerce=int, **kwargs)

    def process_formdata(self, valuelist) -> None:
        """Read the chosen number; an empty value means nothing was chosen."""
        if valuelist and valuelist[0] == "":
            self.data = None
            return
        super().process_formdata(valuelist)

    def pre_validate(self, form) -> None:
        """Refuse numbers outside 1-5 (a chosen star is always inside)."""
        if self.data is None:
            return
        if not taxonomy.RATING_MIN <= self.data <= taxonomy.RATING_MAX:
            raise ValidationError("Ratings go from 1 to 5.")


class OutcomeForm(FlaskForm):
    """Rate a finished collaboration from your side."""

    success_rating = StarRatingField(
        "Overall success",
        validators=[InputRequired("Give a rating from 1 to 5.")],
        description="1 star = a failure, 5 stars = everything you hoped for.",
    )
    completion_status = SelectField(
        "How did it end?",
        choices=options(taxonomy.choices(taxonomy.COMPLETION_STATUSES)),
        validators=[InputRequired()],
    )
    roi_achieved = FiniteDecimalField(
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

    def validate_rated_to(self, field: DateField) -> None:
        """Refuse an "until" date before the "from" date."""
        start = self.rated_from.data
        if field.data and start and not self.rated_from.errors and field.data < start:
            raise ValidationError(
                f'Must be on or after the "Rated from" date ({start.isoformat()}).'
            )


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
    max_rate = FiniteDecimalField(
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
    budget = FiniteDecimalField(
        "Budget",
        places=None,
        validators=[
            InputRequired("Give a budget."),
            NumberRange(1, 10_000_000, "The budget must be between 1 and 10,000,000."),
        ],
    )


class TransitionForm(FlaskForm):
    """Move a collaboration on: the buttons of its page (one form per action)."""

    note = StringField(
        "Reason",
        validators=[Optional(), Length(max=500)],
        description="Required to cancel; optional when declining or withdrawing.",
    )
    completed_on = DateField(
        "Completed on",
        validators=[Optional()],
        description="Leave empty for today.",
    )
