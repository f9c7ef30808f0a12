"""Blueprints, one per module; the factory registers everything in BLUEPRINTS."""

from webapp.views.api import bp as api_bp
from webapp.views.auth import bp as auth_bp
from webapp.views.collaborations import bp as collaborations_bp
from webapp.views.errors import bp as errors_bp
from webapp.views.main import bp as main_bp
from webapp.views.matches import bp as matches_bp
from webapp.views.models import bp as models_bp
from webapp.views.outcomes import bp as outcomes_bp
from webapp.views.runs import bp as runs_bp

BLUEPRINTS = [
    auth_bp,
    main_bp,
    collaborations_bp,
    outcomes_bp,
    matches_bp,
    models_bp,
    runs_bp,
    api_bp,
    errors_bp,
]
