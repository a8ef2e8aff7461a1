"""The hub's HTTP side: the referent API and page, the OpenAPI document, health.

``create_app(service)`` builds the aiohttp application around a running escalation
service; ``serve(app, host, port)`` runs it on a TCP socket behind the listener's
connection caps, descriptor reserve and read deadlines (``hub.http.listener``).
``token_new_main`` backs ``ecrin token new``.
"""

from hub.http.app import HttpSettings, create_app, serve
from hub.http.auth import INSTALLER, REFERENT, Authenticator, FailureLimiter
from hub.http.errors import ERROR_CODES, ApiError
from hub.http.health import Readiness
from hub.http.openapi import OPENAPI_PATH, openapi_document
from hub.http.tokens import hash_token, new_token, token_new_main

__all__ = [
    "ERROR_CODES",
    "INSTALLER",
    "OPENAPI_PATH",
    "REFERENT",
    "ApiError",
    "Authenticator",
    "FailureLimiter",
    "HttpSettings",
    "Readiness",
    "create_app",
    "hash_token",
    "new_token",
    "openapi_document",
    "serve",
    "token_new_main",
]
