"""Which navigation entry is the page being shown (for ``aria-current="page"``)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import request


def is_current(endpoint: str, also: Iterable[str] = ()) -> bool:
    """Return True when the request's page belongs to the nav entry for ``endpoint``.

    A page belongs to an entry when it is the entry's endpoint or one listed in
    ``also``; a page that shows one thing (its URL has arguments, like
    ``/runs/7``) also belongs to the ``index`` entry of its blueprint, so a run's
    page marks "Runs" current.
    """
    shown = request.endpoint
    if shown is None:
        return False
    if shown == endpoint or shown in set(also):
        return True
    blueprint, _, view = endpoint.rpartition(".")
    return bool(
        view == "index"
        and blueprint
        and request.blueprint == blueprint
        and request.view_args
    )
