"""The OpenAPI 3.1 document of the hub's HTTP side, served at ``/api/openapi.json``.

Written as Python data rather than a JSON file so that the error codes and limits come
from the modules that enforce them, and so that nothing has to be found as package data
at run time. The tests hold it to the implementation: every route of the app is here
and every path here is a route, every response documented is produced by a test, every
JSON body the tests receive validates against the schema documented for it, and the
scopes listed for an operation are exactly the ones the app accepts.

Security requirements use the OpenAPI 3.1 form for non-OAuth schemes, where the list
holds roles: ``[{"bearer": ["referent"]}, {"bearer": ["installer"]}]`` reads "a bearer
token with the referent scope, or one with the installer scope"; ``[{"bearer": []}]``
means any valid token; ``[]`` means no token.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Final

from hub.coverage.formats import FORMATS, MEDIA_TYPES
from hub.coverage.handover import TEXT_MAX
from hub.coverage.model import AVAILABILITY_STATES, RECORDING_STATES
from hub.coverage.period import MAX_DAYS
from hub.coverage.render_json import report_schema
from hub.escalation.model import ContactRole, Priority, Status
from hub.events import CAMERA_STATES
from hub.http.auth import INSTALLER, REFERENT
from hub.http.errors import ERROR_CODES
from hub.http.referent_api import DEFAULT_LIMIT, MAX_LIMIT
from hub.http.register_api import HANDOVER_FIELDS
from hub.state import (
    CameraAttributes,
    DeviceAttributes,
    Domain,
    EscalationAttributes,
    LinkAttributes,
    PanelZoneAttributes,
    PartitionAttributes,
    ZoneAttributes,
)

__all__ = ["OPENAPI_PATH", "openapi_document"]

#: Where the document is served.
OPENAPI_PATH: Final = "/api/openapi.json"

_REF = "#/components"

_DATETIME: Final = {"type": "string", "format": "date-time"}
_DATETIME_OR_NULL: Final = {"type": ["string", "null"], "format": "date-time"}
_STRING_OR_NULL: Final = {"type": ["string", "null"]}

_ESCALATION_EXAMPLE: Final = {
    "id": "esc-20250214-0001",
    "kind": "holdup",
    "priority": "life-safety",
    "status": "open",
    "site": "Bijouterie du Centre",
    "address": "12 rue Nationale, 37000 Tours",
    "departement": "37",
    "zone": "counter",
    "zone_name": "Comptoir",
    "device": "panel",
    "cameras": ["cam-counter"],
    "instructions": "Entrée par la cour. Ne pas appeler la boutique.",
    "tier": 0,
    "addressed_to": ["referent-37"],
    "signals": 1,
    "high_stock": "saint-valentin",
    "created_at": "2025-02-14T15:02:11.204000+00:00",
    "updated_at": "2025-02-14T15:02:11.204000+00:00",
    "deadline": "2025-02-14T15:04:11.204000+00:00",
    "acknowledged_by": None,
    "acknowledged_at": None,
    "resolved_by": None,
    "resolved_at": None,
    "scene_sealed": True,
    "revision": 1,
    "signalled_at": "2025-02-14T15:02:10.950000+00:00",
    "camera_states": [
        {
            "id": "cam-counter",
            "state": "online",
            "covering": True,
            "recording": True,
            "since": "2025-02-14T08:30:00+00:00",
        }
    ],
}

#: One camera's availability in an escalation (``hub.cameras.CameraStatus``).
_CAMERA_STATUS: Final = {
    "type": "object",
    "required": ["id", "state", "covering", "recording", "since"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "state": {"type": "string", "enum": sorted(CAMERA_STATES)},
        "covering": {
            "type": "boolean",
            "description": "Online, and recording not known to be off.",
        },
        "recording": {"type": ["boolean", "null"]},
        "since": _DATETIME_OR_NULL,
    },
}


# -- the state (GET /api/v1/state) -----------------------------------------------------------
#: Each domain's attribute type (``hub.state.entities``): the schema is made from it.
STATE_ATTRIBUTES: Final[dict[Domain, type]] = {
    Domain.PARTITION: PartitionAttributes,
    Domain.ZONE: ZoneAttributes,
    Domain.PANEL_ZONE: PanelZoneAttributes,
    Domain.DEVICE: DeviceAttributes,
    Domain.LINK: LinkAttributes,
    Domain.CAMERA: CameraAttributes,
    Domain.ESCALATION: EscalationAttributes,
}

#: JSON Schema of each annotation the attribute types use.
_ANNOTATIONS: Final[dict[str, Any]] = {
    "bool": {"type": "boolean"},
    "bool | None": {"type": ["boolean", "null"]},
    "str": {"type": "string"},
    "str | None": _STRING_OR_NULL,
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "datetime | None": _DATETIME_OR_NULL,
    "tuple[str, ...]": {"type": "array", "items": {"type": "string"}},
    "tuple[tuple[str, str], ...]": {
        "type": "array",
        "items": {
            "type": "array",
            "prefixItems": [{"type": "string"}, {"type": "string"}],
            "minItems": 2,
            "maxItems": 2,
        },
    },
}


def _attributes_schema(cls: type) -> dict[str, Any]:
    fields = dataclasses.fields(cls)
    return {
        "type": "object",
        "required": [f.name for f in fields],
        "additionalProperties": False,
        "properties": {f.name: _ANNOTATIONS[str(f.type)] for f in fields},
    }


def _state_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": (
            "One entity's state, in Home Assistant's shape; the attributes depend on the "
            "domain (docs/state.md). Times are the events' times; null for an entity "
            "configured but never heard of (a camera is then `unknown`)."
        ),
        "required": [
            "entity_id",
            "domain",
            "state",
            "attributes",
            "last_changed",
            "last_updated",
        ],
        "additionalProperties": False,
        "properties": {
            "entity_id": {"type": "string", "pattern": "^[a-z_]+:.+$"},
            "domain": {"type": "string", "enum": [d.value for d in Domain]},
            "state": {"type": "string", "minLength": 1},
            "attributes": {"type": "object"},
            "last_changed": _DATETIME_OR_NULL,
            "last_updated": _DATETIME_OR_NULL,
        },
        "oneOf": [
            {
                "properties": {
                    "domain": {"const": domain.value},
                    "attributes": _attributes_schema(cls),
                }
            }
            for domain, cls in STATE_ATTRIBUTES.items()
        ],
        "examples": [
            {
                "entity_id": "partition:panel:1",
                "domain": "partition",
                "state": "armed_away",
                "attributes": {
                    "device": "panel",
                    "partition": 1,
                    "armed": True,
                    "alarm": False,
                    "ready": None,
                    "ac_power": True,
                    "battery_low": False,
                },
                "last_changed": "2025-02-14T19:30:02.120000+00:00",
                "last_updated": "2025-02-14T19:30:02.120000+00:00",
            }
        ],
    }


def _coverage_report_schema() -> dict[str, Any]:
    """The report's own JSON Schema (``hub/coverage/report.schema.json``), as a
    component: the same document the report ships with, so the two cannot drift."""
    schema = report_schema()
    schema.pop("$schema", None)
    return schema


def _handover_schemas() -> dict[str, Any]:
    """The hand-over's request and answer (``POST /api/v1/register/handovers``)."""
    text = {"type": "string", "minLength": 1, "maxLength": 1000}
    instant = {"type": "string", "format": "date-time", "maxLength": 1000}
    return {
        "HandoverRequest": {
            "type": "object",
            "description": (
                "A window of one camera's recordings handed over. `from` and `to` are "
                "ISO 8601 instants with their offset; the window is over (`to` not after "
                f"the hub's now). `to_whom` and `reference`: one line each (blanks folded), "
                f"1 to {TEXT_MAX} characters."
            ),
            "required": list(HANDOVER_FIELDS),
            "additionalProperties": False,
            "properties": {
                "camera": {**text, "description": "A configured camera id."},
                "from": {**instant, "description": "The window's start."},
                "to": {**instant, "description": "The window's end, after `from`."},
                "to_whom": {**text, "description": "Whom the recordings were given to."},
                "reference": {**text, "description": "The requisition's reference."},
            },
        },
        "Handover": {
            "type": "object",
            "description": "The hand-over as the register recorded it.",
            "required": [*HANDOVER_FIELDS, "number", "recorded_at", "journal_row"],
            "additionalProperties": False,
            "properties": {
                "number": {"type": "integer", "minimum": 1, "description": "Its number."},
                "camera": {"type": "string"},
                "from": {"type": "string", "format": "date-time"},
                "to": {"type": "string", "format": "date-time"},
                "to_whom": {"type": "string", "maxLength": TEXT_MAX},
                "reference": {"type": "string", "maxLength": TEXT_MAX},
                "recorded_at": {"type": "string", "format": "date-time"},
                "journal_row": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "The journal's row of its `RecordingsHandedOver` event.",
                },
            },
        },
    }


def _schemas() -> dict[str, Any]:
    return {
        **_handover_schemas(),
        "CoverageReport": _coverage_report_schema(),
        "State": _state_schema(),
        "StateList": {
            "type": "object",
            "required": ["entities"],
            "additionalProperties": False,
            "properties": {
                "entities": {
                    "type": "array",
                    "description": "Every entity, sorted by entity id.",
                    "items": {"$ref": f"{_REF}/schemas/State"},
                }
            },
        },
        "Error": {
            "type": "object",
            "description": "Every 4xx and 5xx body. `error` is stable; `reason` is for people.",
            "required": ["error", "reason"],
            "additionalProperties": False,
            "properties": {
                "error": {"type": "string", "enum": sorted(ERROR_CODES)},
                "reason": {"type": "string", "minLength": 1, "maxLength": 200},
            },
        },
        "Escalation": {
            "type": "object",
            "description": (
                "One incident being escalated. There is no field for an amount of loss "
                "and no free text from the shop."
            ),
            "required": list(_ESCALATION_EXAMPLE),
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "kind": {"type": "string", "description": "What opened it: holdup, duress..."},
                "priority": {"type": "string", "enum": [p.value for p in Priority]},
                "status": {"type": "string", "enum": [s.value for s in Status]},
                "site": {"type": "string"},
                "address": {"type": "string"},
                "departement": {"type": "string"},
                "zone": _STRING_OR_NULL,
                "zone_name": {"type": "string"},
                "device": {"type": "string"},
                "cameras": {"type": "array", "items": {"type": "string"}},
                "camera_states": {
                    "type": "array",
                    "description": (
                        "The availability of each camera of `cameras`, in the same order, "
                        "as of the escalation's last change (docs/webhooks.md)."
                    ),
                    "items": _CAMERA_STATUS,
                },
                "instructions": {"type": "string"},
                "tier": {"type": "integer", "minimum": 0},
                "addressed_to": {"type": "array", "items": {"type": "string"}},
                "signals": {"type": "integer", "minimum": 0},
                "high_stock": _STRING_OR_NULL,
                "created_at": _DATETIME,
                "updated_at": _DATETIME,
                "deadline": _DATETIME_OR_NULL,
                "acknowledged_by": _STRING_OR_NULL,
                "acknowledged_at": _DATETIME_OR_NULL,
                "resolved_by": _STRING_OR_NULL,
                "resolved_at": _DATETIME_OR_NULL,
                "scene_sealed": {"type": "boolean"},
                "revision": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Grows at every change; keep the highest seen.",
                },
                "signalled_at": {
                    **_DATETIME_OR_NULL,
                    "description": "When the first signal happened, by the device's clock.",
                },
            },
            "examples": [_ESCALATION_EXAMPLE],
        },
        "EscalationList": {
            "type": "object",
            "required": ["escalations"],
            "additionalProperties": False,
            "properties": {
                "escalations": {
                    "type": "array",
                    "maxItems": MAX_LIMIT,
                    "items": {"$ref": f"{_REF}/schemas/Escalation"},
                }
            },
        },
        "ZoneCoverage": {
            "type": "object",
            "description": (
                "Which cameras filmed the escalation's zone when its first signal came, "
                "from the coverage log (docs/coverage.md): a camera films when it is "
                "online and recording. `known` is false, with a `reason`, when the log "
                "cannot tell."
            ),
            "required": [
                "escalation",
                "zone",
                "at",
                "known",
                "reason",
                "as_of",
                "covered",
                "cause",
                "cameras",
            ],
            "additionalProperties": False,
            "properties": {
                "escalation": {"type": "string"},
                "zone": _STRING_OR_NULL,
                "at": {**_DATETIME, "description": "When the first signal came."},
                "known": {"type": "boolean"},
                "reason": {"type": "string", "description": "Why it is not known; else empty."},
                "as_of": {
                    **_DATETIME_OR_NULL,
                    "description": (
                        "The moment the states are from: `at`, or the last moment the "
                        "log knew when it does not reach `at` yet (no camera changed "
                        "since, as far as the journal shows)."
                    ),
                },
                "covered": {
                    "type": ["boolean", "null"],
                    "description": "At least one camera of the zone filmed.",
                },
                "cause": {"type": "string", "description": "Why the zone was not covered."},
                "cameras": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "availability", "recording", "filming"],
                        "additionalProperties": False,
                        "properties": {
                            "id": {"type": "string"},
                            "availability": {
                                "type": "string",
                                "enum": list(AVAILABILITY_STATES),
                            },
                            "recording": {"type": "string", "enum": list(RECORDING_STATES)},
                            "filming": {"type": "boolean"},
                        },
                    },
                },
            },
            "examples": [
                {
                    "escalation": "esc-20250214-0001",
                    "zone": "counter",
                    "at": "2025-02-14T16:31:07+00:00",
                    "known": True,
                    "reason": "",
                    "as_of": "2025-02-14T16:31:07+00:00",
                    "covered": True,
                    "cause": "",
                    "cameras": [
                        {
                            "id": "cam-counter",
                            "availability": "online",
                            "recording": "on",
                            "filming": True,
                        }
                    ],
                }
            ],
        },
        "Me": {
            "type": "object",
            "required": ["id", "name", "role", "scopes"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "role": {"type": "string", "enum": [r.value for r in ContactRole]},
                "scopes": {
                    "type": "array",
                    "uniqueItems": True,
                    "items": {"type": "string", "enum": [INSTALLER, REFERENT]},
                },
            },
            "examples": [
                {
                    "id": "referent-37",
                    "name": "Référent sûreté 37",
                    "role": "local_referent",
                    "scopes": ["referent"],
                }
            ],
        },
        "NoFields": {
            "type": "object",
            "description": (
                "The actions take no field. There is deliberately none for a note: the hub "
                "never forwards free text."
            ),
            "maxProperties": 0,
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "additionalProperties": False,
            "properties": {
                "status": {
                    "type": "string",
                    "enum": ["ok", "degraded", "starting"],
                    "description": "`starting` until the start-up is over; then `ok` when"
                    " every device runs and the MQTT broker (if any) is connected,"
                    " `degraded` when not (they are retried).",
                },
                "ready": {
                    "type": "boolean",
                    "description": "The start-up is over: journal, escalation engine and"
                    " HTTP side up, every device opened once or failed to.",
                },
                "devices": {
                    "type": "object",
                    "required": ["configured", "running"],
                    "additionalProperties": False,
                    "properties": {
                        "configured": {"type": "integer", "minimum": 0},
                        "running": {"type": "integer", "minimum": 0},
                    },
                },
                "broker": {
                    "type": "object",
                    "description": "The hub's MQTT session, when it has one (cameras).",
                    "required": ["connected"],
                    "additionalProperties": False,
                    "properties": {"connected": {"type": "boolean"}},
                },
            },
        },
    }


def _error_response(status: int, description: str, headers: dict[str, Any] | None = None) -> Any:
    codes = sorted(c for c, s in ERROR_CODES.items() if s == status)
    response: dict[str, Any] = {
        "description": description + " Codes: " + ", ".join(f"`{c}`" for c in codes) + ".",
        "content": {
            "application/json": {
                "schema": {
                    "allOf": [
                        {"$ref": f"{_REF}/schemas/Error"},
                        {"properties": {"error": {"enum": codes}}},
                    ]
                }
            }
        },
    }
    if headers:
        response["headers"] = headers
    return response


def _responses() -> dict[str, Any]:
    return {
        "BadRequest": _error_response(
            400, "A query parameter or the body is wrong (unknown, repeated, out of range)."
        ),
        "Unauthorized": _error_response(
            401,
            "No token, a malformed Authorization header, or an unknown token.",
            {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
        ),
        "Forbidden": _error_response(403, "The token lacks the scope, or the contact the right."),
        "NotFound": _error_response(
            404, "No such escalation, or it was not addressed to this contact."
        ),
        "RequestTimeout": _error_response(
            408, "The request body did not arrive within the hub's body timeout."
        ),
        "Conflict": _error_response(409, "The escalation's state does not allow it."),
        "TooLarge": _error_response(413, "The request body is larger than the hub accepts."),
        "UnsupportedMediaType": _error_response(415, "A request body must be application/json."),
        "RateLimited": _error_response(
            429,
            "Too many failed attempts from this address: locked out for a while.",
            {
                "Retry-After": {
                    "description": "Seconds to wait.",
                    "schema": {"type": "integer", "minimum": 1},
                    "required": True,
                }
            },
        ),
    }


def _r(name: str) -> dict[str, str]:
    return {"$ref": f"{_REF}/responses/{name}"}


def _json_ok(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"{_REF}/schemas/{schema}"}}},
    }


_ANY_TOKEN: Final[list[dict[str, list[str]]]] = [{"bearer": []}]
_VIEWER: Final = [{"bearer": [REFERENT]}, {"bearer": [INSTALLER]}]
_REFERENT_ONLY: Final = [{"bearer": [REFERENT]}]
_INSTALLER_ONLY: Final = [{"bearer": [INSTALLER]}]
_PUBLIC: Final[list[Any]] = []

_ID_PARAM: Final = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The escalation id.",
    "schema": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"},
}


def _action(summary: str, description: str, security: list[Any], extra: dict[str, Any]) -> Any:
    responses: dict[str, Any] = {
        "200": _json_ok("The escalation after the action.", "Escalation"),
        "400": _r("BadRequest"),
        "401": _r("Unauthorized"),
        "403": _r("Forbidden"),
        "404": _r("NotFound"),
        "408": _r("RequestTimeout"),
        "413": _r("TooLarge"),
        "415": _r("UnsupportedMediaType"),
        "429": _r("RateLimited"),
    }
    responses.update(extra)
    return {
        "post": {
            "tags": ["escalations"],
            "summary": summary,
            "description": description,
            "security": security,
            "parameters": [_ID_PARAM],
            "requestBody": {
                "required": False,
                "description": "None, or `{}`.",
                "content": {"application/json": {"schema": {"$ref": f"{_REF}/schemas/NoFields"}}},
            },
            "responses": dict(sorted(responses.items())),
        }
    }


def _page(summary: str) -> dict[str, Any]:
    return {
        "get": {
            "tags": ["page"],
            "summary": summary,
            "security": _PUBLIC,
            "responses": {
                "200": {
                    "description": "The referent page (HTML).",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                }
            },
        }
    }


def _paths() -> dict[str, Any]:
    viewer_errors = {
        "400": _r("BadRequest"),
        "401": _r("Unauthorized"),
        "403": _r("Forbidden"),
        "429": _r("RateLimited"),
    }
    return {
        "/api/v1/state": {
            "get": {
                "tags": ["state"],
                "summary": "The shop's state now: every entity, sorted by id",
                "description": (
                    "Partitions, zones, panel zones, devices, links, cameras and escalations, "
                    "each with a stable id (`partition:<device>:<n>`, `zone:<zone>`, "
                    "`panel_zone:<device>:<n>`, `device:<id>`, `link:<device>`, "
                    "`camera:<id>`, `escalation:<id>`). Restored from the journal when the "
                    "hub starts. Installers only: it shows every zone of the shop."
                ),
                "security": _INSTALLER_ONLY,
                "responses": {
                    "200": _json_ok("The states.", "StateList"),
                    **viewer_errors,
                },
            }
        },
        "/api/v1/reports/coverage": {
            "get": {
                "tags": ["reports"],
                "summary": "The video-surveillance coverage report of a period",
                "description": (
                    "The same report as `ecrin report coverage`: the site, the cameras as "
                    "the authorisation file (Cerfa 13806) lists them, each zone's coverage "
                    "with every gap and its causes, and each zone's risk exposure. The part "
                    "of the period outside the coverage log is `not recorded`, never "
                    "covered nor a gap. Installers only. A 503 when the hub has no coverage "
                    "log yet, cannot read its journal or its shop file, or cannot make a "
                    "PDF; and when the report was not made: the hub makes it in a process "
                    "of its own, stopped past a deadline and first to go when memory runs "
                    "short."
                ),
                "security": _INSTALLER_ONLY,
                "parameters": [
                    {
                        "name": "from",
                        "in": "query",
                        "required": True,
                        "description": "The first day (`2024-03-01`: from midnight, site "
                        "time) or an instant (`2024-03-01T08:00`, site time without an "
                        "offset).",
                        "schema": {"type": "string", "minLength": 1},
                    },
                    {
                        "name": "to",
                        "in": "query",
                        "required": True,
                        "description": "The last day, included, or an instant, excluded; "
                        f"the period ends after it starts and lasts at most {MAX_DAYS} days.",
                        "schema": {"type": "string", "minLength": 1},
                    },
                    {
                        "name": "format",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": list(FORMATS), "default": "json"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The report; `pdf` and `csv` as attachments.",
                        "content": {
                            MEDIA_TYPES["json"]: {
                                "schema": {"$ref": f"{_REF}/schemas/CoverageReport"}
                            },
                            MEDIA_TYPES["html"]: {"schema": {"type": "string"}},
                            MEDIA_TYPES["csv"]: {"schema": {"type": "string"}},
                            MEDIA_TYPES["pdf"]: {
                                "schema": {"type": "string", "contentMediaType": "application/pdf"}
                            },
                        },
                    },
                    **viewer_errors,
                    "503": _error_response(
                        503,
                        "No coverage log yet, the journal or shop file unreadable, no PDF "
                        "here, or the report not made (past its deadline, or its process "
                        "killed).",
                    ),
                },
            }
        },
        "/api/v1/register/handovers": {
            "post": {
                "tags": ["register"],
                "summary": "Record a hand-over of recordings to the prosecutor",
                "description": (
                    "What `ecrin register handover` does with the hub stopped, done by the "
                    "running hub: the register's line and the journal's "
                    "`RecordingsHandedOver` event, both or neither, then the camera plugins "
                    "keep the window. Installers only. A 400 names what is wrong (an "
                    "unknown camera, with the known ones; `from` not before `to`; a window "
                    "not over; an empty or over-long text), and nothing is recorded; so "
                    "does a 503 (no journal, a file the hub cannot write)."
                ),
                "security": _INSTALLER_ONLY,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"{_REF}/schemas/HandoverRequest"}}
                    },
                },
                "responses": {
                    "201": _json_ok("The hand-over recorded.", "Handover"),
                    **viewer_errors,
                    "408": _r("RequestTimeout"),
                    "413": _r("TooLarge"),
                    "415": _r("UnsupportedMediaType"),
                    "503": _error_response(
                        503, "The hub runs without its journal, or cannot write the register."
                    ),
                },
            }
        },
        "/api/v1/me": {
            "get": {
                "tags": ["referent"],
                "summary": "Who the token belongs to, and its scopes",
                "security": _ANY_TOKEN,
                "responses": {
                    "200": _json_ok("The contact.", "Me"),
                    "400": _r("BadRequest"),
                    "401": _r("Unauthorized"),
                    "429": _r("RateLimited"),
                },
            }
        },
        "/api/v1/escalations": {
            "get": {
                "tags": ["escalations"],
                "summary": "Escalations visible to the caller, newest first",
                "description": (
                    "A referent sees the escalations addressed to them; an installer sees all."
                ),
                "security": _VIEWER,
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": [s.value for s in Status]},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_LIMIT,
                            "default": DEFAULT_LIMIT,
                        },
                    },
                ],
                "responses": {
                    "200": _json_ok("The escalations.", "EscalationList"),
                    **viewer_errors,
                },
            }
        },
        "/api/v1/escalations/stream": {
            "get": {
                "tags": ["escalations"],
                "summary": "Live changes, as Server-Sent Events",
                "description": (
                    "First a `retry:` line, then one `current` event per open escalation "
                    "(oldest first), then one event per change: `created`, `escalated`, "
                    "`repeated`, `reminded`, `acknowledged`, `resolved`, "
                    "`scene_released`, `delivery_failed`. Each event has `event:`, `id:` "
                    "(`<escalation id>@<revision>`) and one `data:` line holding an "
                    "Escalation as JSON. A `: heartbeat` comment is sent after 15 s "
                    "without an event. A client that reconnects gets the open "
                    "escalations again; `Last-Event-ID` is not used."
                ),
                "security": _VIEWER,
                "responses": {
                    "200": {
                        "description": "The event stream (stays open).",
                        "content": {
                            "text/event-stream": {
                                "schema": {"type": "string"},
                                "x-event-data": {"$ref": f"{_REF}/schemas/Escalation"},
                            }
                        },
                    },
                    **viewer_errors,
                },
            }
        },
        "/api/v1/escalations/{id}": {
            "get": {
                "tags": ["escalations"],
                "summary": "One escalation",
                "security": _VIEWER,
                "parameters": [_ID_PARAM],
                "responses": {
                    "200": _json_ok("The escalation.", "Escalation"),
                    **viewer_errors,
                    "404": _r("NotFound"),
                },
            }
        },
        "/api/v1/escalations/{id}/coverage": {
            "get": {
                "tags": ["escalations"],
                "summary": "Which cameras filmed the zone when the signal came",
                "description": (
                    "From the coverage log: each camera of the escalation's `cameras` "
                    "with its availability and recording at the first signal, and "
                    "whether the zone was covered (a camera online and recording). "
                    "The same visibility as the escalation itself."
                ),
                "security": _VIEWER,
                "parameters": [_ID_PARAM],
                "responses": {
                    "200": _json_ok("The zone's coverage at the signal.", "ZoneCoverage"),
                    **viewer_errors,
                    "404": _r("NotFound"),
                },
            }
        },
        "/api/v1/escalations/{id}/ack": _action(
            "Acknowledge: the referent has it in hand; the ladder stops",
            "Needs the referent scope, and the escalation must have been addressed to "
            "the caller: an installer cannot stop a ladder. Replaying it returns the "
            "same escalation and changes nothing. An escalation already resolved, or "
            "already acknowledged by another referent, cannot be acknowledged (409).",
            _REFERENT_ONLY,
            {"409": _r("Conflict")},
        ),
        "/api/v1/escalations/{id}/resolve": _action(
            "Resolve: the incident is closed",
            "A referent it was addressed to, or an installer; an installer cannot close "
            "a life-safety escalation nobody has acknowledged (403). Replaying it "
            "returns the same escalation and changes nothing.",
            _VIEWER,
            {},
        ),
        "/api/v1/escalations/{id}/release-scene": _action(
            "Release the preserved scene",
            "An installer, or a referent the escalation was addressed to, lifts the "
            "preservation of the scene (journal seal, kept recordings, refused "
            "configuration changes). Replaying it changes nothing; an escalation that "
            "preserved no scene (not a hold-up or duress) answers 409.",
            _VIEWER,
            {"409": _r("Conflict")},
        ),
        OPENAPI_PATH: {
            "get": {
                "tags": ["meta"],
                "summary": "This document",
                "security": _PUBLIC,
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/healthz": {
            "get": {
                "tags": ["meta"],
                "summary": "Liveness and readiness of the hub (counts only, no names)",
                "security": _PUBLIC,
                "responses": {
                    "200": _json_ok("Started: `ok` or `degraded`.", "Health"),
                    "503": _json_ok("Still starting.", "Health"),
                },
            }
        },
        "/metrics": {
            "get": {
                "tags": ["meta"],
                "summary": "Request counters (Prometheus text format); nothing on escalations",
                "security": _PUBLIC,
                "responses": {
                    "200": {
                        "description": "The counters.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/": _page("The referent page"),
        "/referent": _page("The referent page (same as /)"),
        "/static/{name}": {
            "get": {
                "tags": ["page"],
                "summary": "The page's script and style sheet",
                "security": _PUBLIC,
                "parameters": [
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": ["referent.css", "referent.js"]},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The file.",
                        "content": {
                            "text/javascript": {"schema": {"type": "string"}},
                            "text/css": {"schema": {"type": "string"}},
                        },
                    },
                    "404": {
                        "description": "No such file.",
                        "content": {
                            "application/json": {"schema": {"$ref": f"{_REF}/schemas/Error"}}
                        },
                    },
                },
            }
        },
    }


_DESCRIPTION: Final = """\
The referent API of an Écrin hub: the police or gendarmerie shop-security referents
list, follow live and acknowledge the hold-up escalations addressed to them.

Authenticate with `Authorization: Bearer <token>`; tokens are per contact and hold
scopes (`referent`, `installer`). Every refused request gets a 4xx with the body
`{"error": "<code>", "reason": "<one line>"}`: besides the responses listed per
operation, a method a path does not have is a 405 (`method_not_allowed`, with `Allow`),
an unknown path a 404 (`not_found`), and an unexpected fault a 500 (`internal_error`).
After 10 failed attempts within a minute, a client address is locked out (429 with
`Retry-After`), for a minute at first and twice as long each time after, up to an hour.
"""


def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Écrin referent API",
            "version": "1.0.0",
            "description": _DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/"}],
        "security": _ANY_TOKEN,
        "tags": [
            {"name": "referent", "description": "The caller."},
            {"name": "escalations", "description": "Escalations and their actions."},
            {"name": "state", "description": "The shop's state (installers)."},
            {"name": "reports", "description": "Reports for the shop's files (installers)."},
            {
                "name": "register",
                "description": "The register of recordings: hand-overs (installers).",
            },
            {"name": "page", "description": "The referent page."},
            {"name": "meta", "description": "This document, health and metrics."},
        ],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A contact's token (`ecrin token new CONTACT`).",
                }
            },
            "schemas": _schemas(),
            "responses": _responses(),
        },
    }


_DOCUMENT: Final = _document()


def openapi_document() -> dict[str, Any]:
    """A fresh copy of the document (callers may change it freely)."""
    return copy.deepcopy(_DOCUMENT)
