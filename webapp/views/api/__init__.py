"""The JSON API under /api/v1: the blueprint, its tokens, errors, validation and docs.

``blueprint`` holds the blueprint, ``limits`` its rate limit, ``auth`` the bearer
tokens and permissions, ``errors`` the JSON error shape, ``validation`` the request
checks against the OpenAPI document in ``openapi`` and ``schemas``. Each stage
keeps its own routes in its ``api`` module (``webapp.serving.api``,
``webapp.learning.api``, ``webapp.registry.api``, ``webapp.marketplace.api``,
``webapp.experiments.api``, ``webapp.monitoring.api``, ``webapp.rollouts.api``,
``webapp.operations.api``, ``webapp.shadow.api``);
they are imported here so their views attach to the blueprint.
"""

from webapp.experiments import api as experiments_api
from webapp.learning import api as learning_api
from webapp.marketplace import api as marketplace_api
from webapp.monitoring import api as monitoring_api
from webapp.operations import api as audit_api
from webapp.registry import api as registry_api
from webapp.rollouts import api as rollouts_api
from webapp.serving import api as serving_api
from webapp.shadow import api as shadow_api
from webapp.views.api import auth, errors, health, limits, openapi
from webapp.views.api.blueprint import bp

__all__ = [
    "audit_api",
    "auth",
    "bp",
    "errors",
    "experiments_api",
    "health",
    "learning_api",
    "marketplace_api",
    "monitoring_api",
    "limits",
    "openapi",
    "registry_api",
    "rollouts_api",
    "serving_api",
    "shadow_api",
]
