"""SQLAlchemy models, one module per aggregate; import them from here."""

from webapp.models.accounts import ApiToken, User
from webapp.models.artifacts import ArtifactBlob
from webapp.models.audit import AuditEntry
from webapp.models.demo import DemoGroundTruth
from webapp.models.experiments import (
    Experiment,
    ExperimentAssignment,
    ExperimentChange,
    ExperimentEvent,
    ExperimentVariant,
    InterleavingImpression,
)
from webapp.models.marketplace import (
    Collaboration,
    Company,
    Influencer,
    NicheActivity,
    Outcome,
    OutcomeRevision,
    ProfileRevision,
    StatusChange,
)
from webapp.models.rollouts import Rollout, RolloutEvent
from webapp.models.shadow import ShadowPeriod
from webapp.models.training import Deployment, ModelVersion, PredictionLog, TrainingRun

__all__ = [
    "ApiToken",
    "ArtifactBlob",
    "AuditEntry",
    "Collaboration",
    "Company",
    "DemoGroundTruth",
    "Deployment",
    "Experiment",
    "ExperimentAssignment",
    "ExperimentChange",
    "ExperimentEvent",
    "ExperimentVariant",
    "InterleavingImpression",
    "Influencer",
    "ModelVersion",
    "NicheActivity",
    "Outcome",
    "OutcomeRevision",
    "PredictionLog",
    "ProfileRevision",
    "Rollout",
    "RolloutEvent",
    "ShadowPeriod",
    "StatusChange",
    "TrainingRun",
    "User",
]
