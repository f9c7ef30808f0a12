"""SQLAlchemy models, one module per aggregate; import them from here."""

from webapp.models.accounts import ApiToken, User
from webapp.models.demo import DemoGroundTruth
from webapp.models.marketplace import (
    Collaboration,
    Company,
    Influencer,
    NicheActivity,
    Outcome,
    ProfileRevision,
)

__all__ = [
    "ApiToken",
    "Collaboration",
    "Company",
    "DemoGroundTruth",
    "Influencer",
    "NicheActivity",
    "Outcome",
    "ProfileRevision",
    "User",
]
