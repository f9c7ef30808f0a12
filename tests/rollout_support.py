"""Helpers for rollout tests: versions with real tiny artifacts, served evidence."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path

from conftest import make_company, make_influencer
from flask import current_app

from webapp.extensions import db
from webapp.models import Collaboration, ModelVersion, Outcome, PredictionLog
from webapp.registry import versions

TYPE = "match_success"


def add_version(number: int, model_type: str = TYPE) -> ModelVersion:
    """Store a version (match by default) with a real tiny artifact, as a candidate."""
    data = f"artifact {model_type} {number}".encode()
    relative = f"{model_type}/v{number}.bin"
    path = Path(current_app.config["MODEL_DIR"]) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    version = ModelVersion(
        model_type=model_type,
        version=number,
        algorithm="logistic_regression",
        metrics={"roc_auc": 0.7},
        artifact_path=relative,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
    )
    db.session.add(version)
    db.session.commit()
    return version


def active_and_candidate() -> tuple[ModelVersion, ModelVersion]:
    """Return v1 (active, through a real promotion) and v2 (a candidate)."""
    first = add_version(1)
    versions.promote(first, None, "start")
    return first, add_version(2)


def serve(
    rollout,
    arm: str,
    count: int,
    at: datetime,
    success_every: int,
    fail: int = 0,
    *,
    brands: int | None = None,
    rated_after: timedelta = timedelta(days=1),
) -> list[Collaboration]:
    """Log ``count`` served pairs in ``arm`` at ``at``, rated ``rated_after`` later.

    Every ``success_every``-th collaboration succeeds (rating 5), the others fail
    (rating 1); ``fail`` more predictions of the arm fell back (errors). Each
    pair has a brand of its own, or the pairs take turns among ``brands`` brands.
    Returns the collaborations.
    """
    version_id = (
        rollout.candidate_version_id
        if arm == "candidate"
        else rollout.baseline_version_id
    )
    tag = f"{rollout.id}-{arm}-{at:%j%H%M%S%f}"
    shared = [make_company(f"C-{tag}-b{b}") for b in range(brands or 0)]
    db.session.add_all(shared)
    made = []
    for n in range(count):
        influencer = make_influencer(f"I-{tag}-{n}")
        company = shared[n % brands] if brands else make_company(f"C-{tag}-{n}")
        db.session.add_all([influencer, company])
        db.session.flush()
        db.session.add(
            PredictionLog(
                model_type=TYPE,
                version_id=version_id,
                fallback=False,
                subject=company.external_id,
                influencer_id=influencer.id,
                company_id=company.id,
                score=0.5,
                variant=arm,
                rollout_id=rollout.id,
                created_at=at,
            )
        )
        success = n % success_every == 0
        collaboration = Collaboration(
            external_id=f"K-{tag}-{n}",
            influencer=influencer,
            company=company,
            proposed_on=date(2025, 1, 1),
            status="completed",
            budget=1000.0,
            completed_on=date(2025, 2, 1),
            created_at=at + timedelta(seconds=1),
        )
        db.session.add(collaboration)
        db.session.flush()
        made.append(collaboration)
        db.session.add(
            Outcome(
                collaboration_id=collaboration.id,
                rater_side="company",
                success_rating=5 if success else 1,
                completion_status="completed",
                would_collaborate_again=success,
                rated_at=at + rated_after,
            )
        )
    for _ in range(fail):
        db.session.add(
            PredictionLog(
                model_type=TYPE,
                version_id=None,
                fallback=True,
                subject="C-x",
                score=0.5,
                variant=arm,
                rollout_id=rollout.id,
                created_at=at,
            )
        )
    db.session.commit()
    return made
