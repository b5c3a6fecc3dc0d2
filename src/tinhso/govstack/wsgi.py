"""WSGI entry point of the GovStack port for a production server, e.g.
`gunicorn 'tinhso.govstack.wsgi:application()' --bind 127.0.0.1:3333`: the project's
settings and middleware with `tinhso.govstack.standalone_urls` as the URLconf."""

from __future__ import annotations

import os
from typing import Any

from django.core.handlers.wsgi import WSGIHandler

STANDALONE_URLCONF = "tinhso.govstack.standalone_urls"


class StandaloneHandler(WSGIHandler):
    """Django with the GovStack URLconf instead of the site's (same settings, middleware)."""

    def get_response(self, request: Any) -> Any:
        request.urlconf = STANDALONE_URLCONF
        return super().get_response(request)


def application() -> StandaloneHandler:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tinhso.settings")
    django.setup(set_prefix=False)
    return StandaloneHandler()
