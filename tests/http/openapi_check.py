"""Holds every response the app sends during a test to the OpenAPI document.

Attached to an app's ``on_response_prepare`` signal, so it sees exactly what goes on
the wire (status, headers, body) for every request of every test, including the errors
made by aiohttp itself (404, 405, 413). A response whose status is not documented for
its operation, whose content type is not listed, whose documented headers are missing,
or whose JSON body does not validate against the documented schema is a problem; the
fixtures fail the test if any was found.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOC_URI = "urn:ecrin:openapi"


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class OpenApiChecker:
    """Validates responses against one OpenAPI 3.1 document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource: Resource[Any] = DRAFT202012.create_resource(document)
        self.registry: Registry[Any] = Registry().with_resource(DOC_URI, resource)
        self.seen: set[tuple[str, str, int]] = set()
        self.problems: list[str] = []
        self.internal_errors = 0

    # -- reading the document ----------------------------------------------------------
    def resolve(self, pointer: str) -> Any:
        node: Any = self.document
        for token in pointer.lstrip("/").split("/"):
            if token:
                node = node[_unescape(token)]
        return node

    def _deref(self, pointer: str) -> str:
        """Follow local ``$ref`` chains; return the pointer of the object finally reached."""
        node = self.resolve(pointer)
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            pointer = ref[1:]
            node = self.resolve(pointer)
        return pointer

    def operations(self) -> set[tuple[str, str]]:
        """Every documented (METHOD, path template)."""
        return {
            (method.upper(), path)
            for path, item in self.document["paths"].items()
            for method in item
            if method in {"get", "post", "put", "patch", "delete"}
        }

    def documented_responses(self) -> set[tuple[str, str, int]]:
        """Every documented (METHOD, path template, status)."""
        return {
            (method, path, int(status))
            for method, path in self.operations()
            for status in self.document["paths"][path][method.lower()]["responses"]
        }

    def response_pointer(self, method: str, template: str, status: int) -> str | None:
        operation = self.document["paths"].get(template, {}).get(method.lower())
        if operation is None or str(status) not in operation["responses"]:
            return None
        base = f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"
        return self._deref(base)

    def validate(self, schema_pointer: str, instance: Any) -> list[str]:
        """Errors of ``instance`` against the schema at ``schema_pointer`` (empty: valid)."""
        validator = Draft202012Validator(
            {"$ref": f"{DOC_URI}#{schema_pointer}"},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in validator.iter_errors(instance)
        ]

    def validate_schema(self, name: str, instance: Any) -> list[str]:
        """Errors of ``instance`` against ``#/components/schemas/<name>``."""
        return self.validate(f"/components/schemas/{name}", instance)

    # -- checking responses ------------------------------------------------------------
    def attach(self, app: web.Application) -> None:
        """Check every response ``app`` prepares."""
        app.on_response_prepare.append(self._on_prepare)

    async def _on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        self.check(request.method, _template(request), response)

    def check(self, method: str, template: str | None, response: web.StreamResponse) -> None:
        status = response.status
        where = f"{method} {template or request_path_unknown} -> {status}"
        if status == 500:
            self.internal_errors += 1
            return
        if template is None:
            # No route matched (404) or the method is not allowed (405): the generic shape.
            if status not in (404, 405):
                self.problems.append(f"{where}: unexpected status without a route")
            self._check_json(where, response, "/components/schemas/Error")
            return
        self.seen.add((method, template, status))
        pointer = self.response_pointer(method, template, status)
        if pointer is None:
            self.problems.append(f"{where}: status not documented")
            return
        spec = self.resolve(pointer)
        for header, header_spec in spec.get("headers", {}).items():
            if header_spec.get("required") and header not in response.headers:
                self.problems.append(f"{where}: documented header {header} missing")
        content = spec.get("content", {})
        ctype = response.content_type
        if ctype not in content:
            self.problems.append(f"{where}: content type {ctype} not documented")
            return
        if ctype == "application/json":
            self._check_json(where, response, f"{pointer}/content/application~1json/schema")

    def _check_json(self, where: str, response: web.StreamResponse, schema_pointer: str) -> None:
        body = getattr(response, "body", None)
        if not isinstance(body, bytes | bytearray):
            self.problems.append(f"{where}: no JSON body to check")
            return
        try:
            instance = json.loads(body)
        except ValueError as exc:
            self.problems.append(f"{where}: body is not JSON ({exc})")
            return
        self.problems += [f"{where}: {error}" for error in self.validate(schema_pointer, instance)]


request_path_unknown = "<no route>"


def _template(request: web.Request) -> str | None:
    resource = request.match_info.route.resource
    if resource is None or request.match_info.http_exception is not None:
        return None
    return resource.canonical
