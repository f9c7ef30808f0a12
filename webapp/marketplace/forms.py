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
)

from webapp.core import taxonomy
from webapp.core.forms import (
    FiniteDecimalField,
    MultiCheckboxField,
    coerce_yes_no,
    options,
)


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
