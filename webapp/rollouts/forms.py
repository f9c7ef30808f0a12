"""Rollout forms: set one up, and take an action (the CSRF token is the form)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from webapp.core.forms import FiniteDecimalField, options
from webapp.rollouts.store import (
    DEFAULT_GUARDRAILS,
    DEFAULT_HOLD_MINUTES,
    DEFAULT_MIN_OUTCOMES,
    DEFAULT_STEPS,
    MAX_HOLD_MINUTES,
    MAX_MIN_OUTCOMES,
)

ACTIVE_BASELINE = ""


class RolloutForm(FlaskForm):
    """Set up a staged rollout of a candidate version."""

    model_type = SelectField("Model type", choices=[])
    candidate_version = SelectField(
        "Candidate version",
        choices=[],
        description="The candidate to ramp up.",
    )
    baseline_version = SelectField(
        "Baseline version",
        choices=[],
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
        validators=[InputRequired(), NumberRange(0, MAX_HOLD_MINUTES)],
        description="The least time each step lasts.",
    )
    min_outcomes = IntegerField(
        "Minimum outcomes per step",
        default=DEFAULT_MIN_OUTCOMES,
        validators=[InputRequired(), NumberRange(0, MAX_MIN_OUTCOMES)],
        description="Candidate collaborations rated during a step before it advances.",
    )
    tolerance = FiniteDecimalField(
        "Tolerance",
        places=None,
        default=DEFAULT_GUARDRAILS["tolerance"],
        validators=[InputRequired(), NumberRange(0, 1)],
        description="How much worse the candidate may be (0.05: 5 % for rates and "
        "ratings, 5 points of errors).",
    )
    alpha = FiniteDecimalField(
        "Significance level",
        places=None,
        default=DEFAULT_GUARDRAILS["alpha"],
        validators=[InputRequired(), NumberRange(0.0001, 0.5)],
        description="A breach must be significant at this level.",
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
        validators=[Optional(), NumberRange(0, MAX_HOLD_MINUTES)],
        description="Optional: the rollout cannot start until the candidate has "
        "shadowed serving this long (start shadowing on its model page).",
    )
    submit = SubmitField("Create rollout")

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

    def setup(self) -> dict[str, Any] | None:
        """Return the set-up in the API's shape (None when the steps are unreadable)."""
        steps = self.steps_list()
        if steps is None:
            return None
        baseline = self.baseline_version.data
        return {
            "model_type": self.model_type.data,
            "candidate_version": int(self.candidate_version.data),
            "baseline_version": None if baseline == ACTIVE_BASELINE else int(baseline),
            "unit": self.unit.data,
            "steps": steps,
            "hold_minutes": self.hold_minutes.data,
            "min_outcomes": self.min_outcomes.data,
            "guardrails": {
                "tolerance": float(self.tolerance.data),
                "alpha": float(self.alpha.data),
            },
            "on_breach": self.on_breach.data,
            "shadow_minutes": self.shadow_minutes.data,
        }


class RolloutActionForm(FlaskForm):
    """Start, pause, resume, advance or roll back a rollout."""
