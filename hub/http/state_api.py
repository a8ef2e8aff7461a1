"""``GET /api/v1/state``: the shop's state now, for installers.

Beside the referent API, with the same order of checks (authenticate, scope, query),
and the same error bodies. Installers only: the state shows every zone and partition
of the shop, hold-ups included, which is not a referent's business (a referent sees
the escalations addressed to them, nothing else of the shop).
"""

from __future__ import annotations

from typing import Final, Protocol

from aiohttp import web

from hub.http.auth import INSTALLER, Authenticator, require_scope
from hub.http.referent_api import PREFIX, _check_query, _json
from hub.state import State

__all__ = ["STATE_PATH", "StateApi", "StateView"]

STATE_PATH: Final = f"{PREFIX}/state"


class StateView(Protocol):
    """What the route reads of the state registry (``hub.state.StateRegistry``)."""

    def states(self) -> list[State]:
        """Every entity's state, sorted by entity id."""
        ...


class StateApi:
    """The state route, bound to one registry.

    Args:
        state: the hub's state registry.
        authenticator: turns bearer tokens into contacts.
    """

    def __init__(self, state: StateView, authenticator: Authenticator) -> None:
        self._state = state
        self._auth = authenticator

    def add_routes(self, app: web.Application) -> None:
        """Register ``GET /api/v1/state``."""
        app.router.add_get(STATE_PATH, self.get_state, name="state", allow_head=False)

    async def get_state(self, request: web.Request) -> web.Response:
        """Every entity's state, sorted by entity id (installer scope)."""
        contact = self._auth.authenticate(request)
        require_scope(contact, INSTALLER)
        _check_query(request)
        return _json({"entities": [s.to_dict() for s in self._state.states()]})
