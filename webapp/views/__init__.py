"""Blueprints: the factory registers everything in ``blueprints()``.

Pages that belong to a stage live in that stage's package (``views.py`` or a
``views/`` package); what is not a stage (sign-in, errors, the API blueprint and
its docs) lives here.
"""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> list[Blueprint]:
    """Return every blueprint, in registration order."""
    from webapp.experiments.views import bp as experiments_bp
    from webapp.learning.views import bp as runs_bp
    from webapp.marketplace.views.collaborations import bp as collaborations_bp
    from webapp.marketplace.views.matches import bp as matches_bp
    from webapp.marketplace.views.outcomes import bp as outcomes_bp
    from webapp.monitoring.views import bp as monitoring_bp
    from webapp.operations.metrics import bp as metrics_bp
    from webapp.operations.views import bp as operations_bp
    from webapp.registry.views import bp as models_bp
    from webapp.rollouts.views import bp as rollouts_bp
    from webapp.serving.views import bp as trends_bp
    from webapp.shadow.views import bp as shadow_bp
    from webapp.views.api import bp as api_bp
    from webapp.views.auth import bp as auth_bp
    from webapp.views.errors import bp as errors_bp
    from webapp.views.main import bp as main_bp

    return [
        auth_bp,
        main_bp,
        collaborations_bp,
        outcomes_bp,
        matches_bp,
        models_bp,
        runs_bp,
        experiments_bp,
        monitoring_bp,
        rollouts_bp,
        operations_bp,
        metrics_bp,
        shadow_bp,
        trends_bp,
        api_bp,
        errors_bp,
    ]
