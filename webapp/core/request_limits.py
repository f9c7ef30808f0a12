"""A chunked request body is held to MAX_CONTENT_LENGTH like a sized one (413 past it).

Werkzeug enforces the limit on a body sent with Content-Length, but cuts a
chunked one (whose length is unknown) silently at the limit: a form or JSON
body would be read truncated. This WSGI middleware buffers a chunked body up to one
byte past the limit and gives it a Content-Length, so Werkzeug's own check
answers 413 through the app's error handlers (JSON under /api).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask


class ChunkedBodyLimit:
    """Give chunked bodies a Content-Length, reading at most ``limit + 1`` bytes."""

    def __init__(self, app: Callable, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response) -> Iterable[bytes]:
        """Buffer a chunked body before the app sees the request."""
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            data = environ["wsgi.input"].read(self.limit + 1)
            environ["wsgi.input"] = io.BytesIO(data)
            # The body is now de-chunked and sized: Werkzeug ignores Content-Length
            # while Transfer-Encoding says chunked.
            environ["CONTENT_LENGTH"] = str(len(data))
            del environ["HTTP_TRANSFER_ENCODING"]
        return self.app(environ, start_response)


def init_app(app: Flask) -> None:
    """Wrap the app so chunked bodies obey MAX_CONTENT_LENGTH."""
    limit = app.config.get("MAX_CONTENT_LENGTH")
    if limit:
        app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, int(limit))
