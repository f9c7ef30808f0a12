"""Shadow scoring: a candidate version scores the requests serving answered, off the path.

``store`` starts and stops shadow periods (one open per model type);
``scoring`` is the periodic pass that rebuilds served pairs' features and
scores them with the shadow version's verified artifact; ``views`` and ``api``
are the admin's buttons and routes. Shadow scores are prediction log rows with
source "shadow": never shown, compared by ``webapp.monitoring.shadow``.
"""
