"""Ground truth of the synthetic demo world, kept apart from anything a model reads."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db


class DemoGroundTruth(db.Model):
    """The hidden success probability and expected ROI the demo sampled ratings from.

    Only benchmarks read this table (to report the best achievable score); features,
    training and serving never do.
    """

    __tablename__ = "demo_ground_truth"

    collaboration_id: Mapped[int] = mapped_column(
        ForeignKey("collaborations.id", ondelete="CASCADE"), primary_key=True
    )
    success_probability: Mapped[float] = mapped_column(Float)
    expected_roi: Mapped[float] = mapped_column(Float)
