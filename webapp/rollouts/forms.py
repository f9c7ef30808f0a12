"""Rollout forms: set one up, and take an action (the CSRF token is the form).

The set-up form only reads what was typed; the ranges are the store's
(``store.check_setup``, the API's rule too), shown on the fields they concern.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Optional

from webapp.core.forms import FiniteDecimalField, options
from webapp.registry.choices import GROUPED_BY_TYPE, chosen_version
from webapp.rollouts.gates import DEFAULT_CALIBRATION_TOLERANCE
from webapp.rollouts.store import (
    DEFAULT_GUARDRAILS,
    DEFAULT_HOLD_MINUTES,
    DEFAULT_MIN_OUTCOMES,
    DEFAULT_STEPS,
)

ACTIVE_BASELINE = ""


class RolloutForm(FlaskForm):
    """Set up a staged rollout of a candidate version."""

    model_type = SelectField("Model type", choices=[])
    candidate_version = SelectField(
        "Candidate version",
        choices=[],
        render_kw=GROUPED_BY_TYPE,
        description="The candidate to ramp up: a version of the model type.",
    )
    baseline_version = SelectField(
        "Baseline version",
        choices=[],
        render_kw=GROUPED_BY_TYPE,
        description="What the other units get; by default the active version.",
    )
    unit = SelectField(
        "Unit",
        choices=options(
            [("company", "Company (brands)"), ("influencer", "Influencer (creators)")]
        ),
        description="Who is bucketed: each unit gets one version consistently.",
    )
    steps = StringField(
        "Steps (%)",
        default=", ".join(str(step) for step in DEFAULT_STEPS),
        validators=[DataRequired()],
        description="Percentages of units on the candidate, increasing, ending at 100.",
    )
    hold_minutes = IntegerField(
        "Hold (minutes)",
        default=DEFAULT_HOLD_MINUTES,
        validators=[InputRequired()],
        description="The least time each step lasts.",
    )
    min_outcomes = IntegerField(
        "Minimum outcomes per step",
        default=DEFAULT_MIN_OUTCOMES,
        validators=[InputRequired()],
        description="Candidate collaborations rated during a step before it advances.",
    )
    tolerance = FiniteDecimalField(
        "Tolerance",
        places=None,
        default=DEFAULT_GUARDRAILS["tolerance"],
        validators=[InputRequired()],
        description="How much worse the candidate may be (0.05: 5 % for rates and "
        "ratings, 5 points of errors).",
    )
    alpha = FiniteDecimalField(
        "Significance level",
        places=None,
        default=DEFAULT_GUARDRAILS["alpha"],
        validators=[InputRequired()],
        description="A breach must be significant at this level.",
    )
    calibration_tolerance = FiniteDecimalField(
        "Calibration tolerance",
        places=None,
        default=DEFAULT_CALIBRATION_TOLERANCE,
        validators=[Optional()],
        description="The estimated gate (performance predicted from the logged "
        "probabilities) is used only while each arm's expected calibration error "
        "stays within this: above 0, at most 1 (0.1: probabilities off by 10 "
        f"points on average). Blank: {DEFAULT_CALIBRATION_TOLERANCE:g}.",
    )
    prove_before_promoting = BooleanField(
        "Prove before promoting",
        default=False,
        description="The last step (to 100 %) waits until the candidate's "
        "success rate is shown no worse than the baseline's by more than the "
        "tolerance, rather than going ahead because no breach is significant. "
        "Safer, and slow: a candidate only as good as the baseline needs many "
        "outcomes (the page says how far the evidence is).",
    )
    on_breach = SelectField(
        "On a breach",
        choices=options(
            [
                ("rollback", "Roll back (archive the candidate)"),
                ("pause", "Pause (everyone gets the baseline)"),
            ]
        ),
    )
    shadow_minutes = IntegerField(
        "Shadow first (minutes)",
        validators=[Optional()],
        description="Optional: the rollout cannot start until the candidate has "
        "shadowed serving this long (start shadowing on its model page).",
    )
    submit = SubmitField("Create rollout")

    def validate_candidate_version(self, field: SelectField) -> None:
        """Refuse a version of another model type than the one chosen."""
        chosen_version(field, self.model_type.data)

    def validate_baseline_version(self, field: SelectField) -> None:
        """Refuse a baseline of another model type (blank: the active version)."""
        chosen_version(field, self.model_type.data)

    def steps_list(self) -> list[float] | None:
        """Return the steps typed, or None (with a field error) when unreadable."""
        try:
            values = [
                float(part) for part in self.steps.data.replace(";", ",").split(",")
            ]
        except ValueError:
            self.steps.errors = [
                *self.steps.errors,
                "Give numbers separated by commas.",
            ]
            return None
        return values

    def given(self, name: str) -> dict[str, float]:
        """Return ``{name: value}`` of an optional number field, empty when blank."""
        value = self[name].data
        return {} if value is None else {name: float(value)}

    def setup(self) -> dict[str, Any] | None:
        """Return the set-up in the API's shape (None when the steps are unreadable).

        Call it after ``validate``: the versions are then of the chosen type.
        """
        steps = self.steps_list()
        if steps is None:
            return None
        model_type = self.model_type.data
        candidate = chosen_version(self.candidate_version, model_type)
        baseline = chosen_version(self.baseline_version, model_type)
        return {
            "model_type": model_type,
            "candidate_version": candidate.version if candidate else None,
            "baseline_version": baseline.version if baseline else None,
            "unit": self.unit.data,
            "steps": steps,
            "hold_minutes": self.hold_minutes.data,
            "min_outcomes": self.min_outcomes.data,
            "guardrails": {
                "tolerance": float(self.tolerance.data),
                "alpha": float(self.alpha.data),
            }
            | self.given("calibration_tolerance")
            | {"prove_before_promoting": bool(self.prove_before_promoting.data)},
            "on_breach": self.on_breach.data,
            "shadow_minutes": self.shadow_minutes.data,
        }


class RolloutActionForm(FlaskForm):
    """Start, pause, resume, advance or roll back a rollout."""
