"""The JSON API under /api/v1: predictions, recommendations, training, models, health.

``blueprint`` holds the blueprint and its rate limit, ``auth`` the bearer tokens
and permissions, ``errors`` the JSON error shape, ``validation`` the request
checks against the OpenAPI document in ``openapi`` and ``schemas``. The route
modules are imported here so their views attach to the blueprint.
"""

from webapp.views.api import (
    auth,
    errors,
    health,
    models,
    openapi,
    predictions,
    training,
)
from webapp.views.api.blueprint import bp

__all__ = [
    "auth",
    "bp",
    "errors",
    "health",
    "models",
    "openapi",
    "predictions",
    "training",
]
