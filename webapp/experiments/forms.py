"""Experiment forms: set one up (variants as a list), take a status action."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from webapp.core.forms import FiniteDecimalField, MultiCheckboxField, options
from webapp.experiments.results import METRICS
from webapp.experiments.store import DEFAULT_MDE, KEY_PATTERN, MAX_VARIANTS
from webapp.registry.choices import GROUPED_BY_TYPE

SLUG_MESSAGE = "Use 2-64 lower-case letters, digits, - or _ (no spaces)."
METRIC_LABELS = {
    "acceptance_rate": "Acceptance rate (proposals accepted)",
    "success_rate": "Success rate (the success label)",
    "mean_rating": "Mean brand rating",
    "mean_roi": "Mean ROI achieved",
}
RULE_BASED = ""


class VariantForm(Form):
    """One variant: key, name, weight and what it serves (no CSRF: part of a form)."""

    key = StringField(
        "Key",
        validators=[Optional(), Regexp(KEY_PATTERN, message=SLUG_MESSAGE)],
        description="Leave blank to skip this row.",
    )
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    weight = FiniteDecimalField(
        "Weight", places=None, validators=[Optional(), NumberRange(0, 1)]
    )
    model_version = SelectField(
        "Serves", choices=[], validate_choice=True, render_kw=GROUPED_BY_TYPE
    )


class ExperimentForm(FlaskForm):
    """Set up an A/B or interleaving experiment; the first variant is the control."""

    key = StringField(
        "Key",
        validators=[DataRequired(), Regexp(KEY_PATTERN, message=SLUG_MESSAGE)],
        description="The hash seed of every assignment: it never changes once running.",
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    hypothesis = TextAreaField(
        "Hypothesis",
        validators=[Optional(), Length(max=5000)],
        description="What you expect, and why.",
    )
    kind = SelectField(
        "Kind",
        default="ab",
        choices=options(
            [
                ("ab", "A/B test: units split between variants"),
                (
                    "interleaving",
                    "Interleaving: Find influencers/brands lists mix two versions",
                ),
            ]
        ),
        description="Interleaving compares two match_success versions' rankings in "
        "every covered unit's list (weights and guardrails play no part); each "
        "proposal, acceptance and success is credited to the version that placed "
        "the item.",
    )
    model_type = SelectField("Model type", choices=[])
    unit = SelectField(
        "Unit",
        choices=options(
            [("company", "Company (brands)"), ("influencer", "Influencer (creators)")]
        ),
        description="Who is assigned: every request of a unit is served its variant.",
    )
    coverage = FiniteDecimalField(
        "Coverage",
        places=None,
        default=1,
        validators=[DataRequired(), NumberRange(0, 1)],
        description="Share of units in the test (0-1); the rest get the active version.",
    )
    metric = SelectField("Primary metric", choices=options(METRIC_LABELS.items()))
    guardrails = MultiCheckboxField(
        "Guardrail metrics",
        choices=options(METRIC_LABELS.items()),
        description="No winner while one of these is significantly worse.",
    )
    sequential = BooleanField(
        "Sequential testing",
        description="Always-valid p-values and confidence sequences: safe to look "
        "at the results every day, at some loss of power.",
    )
    mde = FiniteDecimalField(
        "Minimum detectable effect",
        places=None,
        default=DEFAULT_MDE,
        validators=[DataRequired(), NumberRange(min=0.001, max=10)],
        description="Relative lift to detect (0.1 = +10 %), at power 0.8 and α 0.05.",
    )
    baseline = FiniteDecimalField(
        "Baseline",
        places=None,
        validators=[Optional(), NumberRange(-1e6, 1e6)],
        description="The metric's current level; blank: measured from the app's data.",
    )
    namespace_id = StringField(
        "Namespace",
        validators=[Optional(), Length(max=64)],
        description="Optional: experiments in one namespace with disjoint ranges "
        "never share a unit.",
    )
    namespace_start = FiniteDecimalField(
        "Namespace from", places=None, validators=[Optional(), NumberRange(0, 1)]
    )
    namespace_end = FiniteDecimalField(
        "Namespace to", places=None, validators=[Optional(), NumberRange(0, 1)]
    )
    variants = FieldList(
        FormField(VariantForm), min_entries=2, max_entries=MAX_VARIANTS
    )
    preview = SubmitField("Compute the sample size")
    submit = SubmitField("Create draft")

    def setup(self) -> dict[str, Any]:
        """Return the set-up in the API's shape (blank variant rows left out)."""
        namespace = None
        if self.namespace_id.data:
            namespace = {
                "id": self.namespace_id.data,
                "start": _number(self.namespace_start.data, 0.0),
                "end": _number(self.namespace_end.data, 1.0),
            }
        return {
            "key": self.key.data,
            "name": self.name.data,
            "hypothesis": self.hypothesis.data or "",
            "kind": self.kind.data,
            "sequential": bool(self.sequential.data),
            "model_type": self.model_type.data,
            "unit": self.unit.data,
            "coverage": _number(self.coverage.data, 1.0),
            "metric": self.metric.data,
            "guardrails": [g for g in self.guardrails.data or [] if g in METRICS],
            "namespace": namespace,
            "mde": _number(self.mde.data, DEFAULT_MDE),
            "baseline": _number(self.baseline.data, None),
            "variants": [
                {
                    "key": row.key.data,
                    "name": row.form.name.data or row.key.data,
                    "weight": _number(row.weight.data, None),
                    "model_version_id": int(row.model_version.data)
                    if row.model_version.data
                    else None,
                }
                for row in self.variants
                if row.key.data
            ],
        }


def _number(value, default):
    """Return a form decimal as a float, or ``default`` when blank."""
    return default if value is None else float(value)


class ExperimentActionForm(FlaskForm):
    """Start, stop or conclude an experiment (the CSRF token is the form)."""

    ship = BooleanField("Ship the winner")


class ExperimentChangeForm(FlaskForm):
    """Change a draft or running experiment's weights (in set-up order) and coverage."""

    coverage = FiniteDecimalField(
        "Coverage", places=None, validators=[DataRequired(), NumberRange(0, 1)]
    )
    weights = FieldList(
        FiniteDecimalField(
            "Weight", places=None, validators=[DataRequired(), NumberRange(0, 1)]
        ),
        min_entries=0,
        max_entries=MAX_VARIANTS,
    )
    submit = SubmitField("Save changes")
