"""The dependency rules of docs/architecture.md ("Layers and seams"), enforced.

Every ``.py`` file under ``hub/`` and ``plugins/`` is parsed with ``ast``: imports at
module level, inside functions and under ``if TYPE_CHECKING:`` all count (a type-only
import is still a seam crossed the wrong way), and relative imports are resolved. Each
import between the project's own modules is checked against the layers; a back-edge
fails the test with the file, the line and the import.

The layers:

* **core**: every module of ``hub`` but the features and the composition root. It
  imports no feature and no plugin.
* **transports** (``hub.transports``) import no decoder (``hub.decoding``, protocol
  modules); **devices** only publish events: a device or transport module imports no
  bus, journal or recorder.
* **features** (``hub.escalation``, ``hub.http``, ``hub.homeassistant``,
  ``hub.coverage``) import the core, and each other only in the declared direction
  (``hub.http`` serves the escalation service and the coverage feature, so it may
  import their contracts, ``hub.escalation.model`` and ``hub.coverage.model``, and what
  the coverage report route needs; escalation never imports http; coverage reads the
  escalation's records, the preserved scenes, and escalation never imports coverage).
  No feature imports ``plugins``, nor reaches up to the plugin manager (``hub.plugins``).
* the **composition root** (``hub.app``, ``hub.cli``, ``hub.__main__``, and
  ``hub.report_child``, the coverage report's child process) imports core
  and features, never ``plugins``. Nothing imports the composition root.
* **plugins** import the public SDK (``hub.sdk``, ``PLUGIN_SURFACE``), their own
  package, and, for the plugin that wires a feature (``FEATURE_PLUGINS``), that
  feature.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[1]
PACKAGES: Final = ("hub", "plugins")

FEATURES: Final = ("hub.escalation", "hub.http", "hub.homeassistant", "hub.coverage")
COMPOSITION_ROOT: Final = ("hub.app", "hub.cli", "hub.__main__", "hub.report_child")
#: What ``hub.http`` may import of the features it serves: the contracts,
#: and what the coverage report route needs (the report's source, formats and errors).
HTTP_MAY_IMPORT: Final = (
    "hub.escalation.model",
    "hub.coverage.model",
    "hub.coverage.formats",
    "hub.coverage.period",
    "hub.coverage.render_json",
    "hub.coverage.render_pdf",
    "hub.coverage.report_source",
    "hub.coverage.report_runs",
    "hub.coverage.handover",
)
#: The features ``hub.http`` serves, whose modules it imports only from HTTP_MAY_IMPORT.
HTTP_SERVES: Final = ("hub.escalation", "hub.coverage")
DECODERS: Final = ("hub.decoding",)
#: Modules that read or write devices: they only publish events (through ``emit``).
DEVICE_MODULES: Final = ("hub.devices", "hub.transports", "plugins")
RECORDING: Final = ("hub.bus", "hub.journal", "hub.recorder")
#: The plugin that wires a feature (registers its configuration section, its rules)
#: may import that feature.
FEATURE_PLUGINS: Final = {
    "plugins.escalation": "hub.escalation",
    "plugins.homeassistant": "hub.homeassistant",
    "plugins.coverage": "hub.coverage",
}


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def is_core(module: str) -> bool:
    """Every module of ``hub`` but the features and the composition root."""
    return (
        _within(module, ("hub",))
        and not _within(module, FEATURES)
        and not _within(module, COMPOSITION_ROOT)
    )


def PLUGIN_SURFACE(module: str) -> bool:
    """What plugins may import of ``hub``: the public SDK only."""
    return _within(module, ("hub.sdk",))


#: Back-edges tolerated for a while, each to be removed by the part that owns the file
#: (none today: the demo finds the panels plugin's simulator in the catalogue of device
#: types, ``DeviceType.simulator``, instead of importing it).
KNOWN_EXCEPTIONS: Final[frozenset[tuple[str, str]]] = frozenset()


@dataclass(frozen=True, slots=True)
class Import:
    """One import of a project module by a project file."""

    file: str
    line: int
    source: str
    target: str
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text} ({self.source} -> {self.target})"


def module_name(path: Path) -> str:
    """The dotted name of a file under the project root."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _resolve(source: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name of ``from {'.' * level}{module} import ...`` in ``source``."""
    if level == 0:
        return module or ""
    base = source.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, module] if module else base)


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[Import]:
    """Every import of a project module in the file, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = str(path.relative_to(ROOT))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield Import(rel, node.lineno, name, alias.name, f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, is_package, node.level, node.module)
            if base.split(".")[0] not in PACKAGES:
                continue
            written = "." * node.level + (node.module or "")
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                target = candidate if candidate in known else base
                text = f"from {written} import {alias.name}"
                yield Import(rel, node.lineno, name, target, text)


def violation(edge: Import) -> str | None:
    """Why the import breaks a layer rule, or None when it is allowed."""
    source, target = edge.source, edge.target
    if _within(target, COMPOSITION_ROOT) and not _within(source, COMPOSITION_ROOT):
        return "nothing imports the composition root"
    if _within(source, DEVICE_MODULES) and _within(target, RECORDING):
        return "devices only publish events: no bus, journal or recorder"
    if _within(source, ("hub.transports",)) and (
        _within(target, DECODERS) or _within(target, ("plugins",))
    ):
        return "transports import no decoder"
    if _within(source, ("plugins",)):
        own = ".".join(source.split(".")[:2])
        feature = FEATURE_PLUGINS.get(own)
        if _within(target, (own,)) or PLUGIN_SURFACE(target):
            return None
        if feature is not None and _within(target, (feature,)):
            return None
        return "plugins import only the public SDK (and their own package)"
    if _within(target, ("plugins",)):
        return "only plugins import plugins"
    if is_core(source) and _within(target, FEATURES):
        return "the core imports no feature"
    if _within(source, FEATURES) and _within(target, ("hub.plugins",)):
        return "a feature never reaches up to the plugin manager: it is handed what it needs"
    if _within(source, ("hub.escalation",)) and _within(target, ("hub.http",)):
        return "escalation never imports http (http serves escalation, not the reverse)"
    if _within(source, ("hub.escalation",)) and _within(target, ("hub.coverage",)):
        return "escalation never imports coverage (coverage reads the escalation's records)"
    if (
        _within(source, ("hub.http",))
        and _within(target, HTTP_SERVES)
        and not _within(target, HTTP_MAY_IMPORT)
        and target not in HTTP_SERVES
    ):
        return f"http imports only the contracts it serves ({', '.join(HTTP_MAY_IMPORT)})"
    return None


def back_edges() -> list[str]:
    """Every import that breaks a rule, as ``FILE:LINE: import (a -> b): reason``."""
    files = project_files()
    known = set(files)
    found: list[str] = []
    for name, path in files.items():
        for edge in imports_of(name, path, known):
            reason = violation(edge)
            if reason is None:
                continue
            if any(edge.file == f and _within(edge.target, (t,)) for f, t in KNOWN_EXCEPTIONS):
                continue
            found.append(f"{edge}: {reason}")
    return found


def test_no_back_edges() -> None:
    problems = back_edges()
    assert not problems, "imports that break the layers:\n" + "\n".join(problems)


def test_the_graph_is_read_in_full() -> None:
    """The walk sees function-level and TYPE_CHECKING imports, and relative ones."""
    files = project_files()
    assert {"hub.app", "hub.config", "hub.escalation.engine", "plugins.escalation"} <= set(files)
    edges = [e for n, p in files.items() for e in imports_of(n, p, set(files))]
    assert any(e.source == "hub.app" and _within(e.target, ("hub.escalation",)) for e in edges)


def test_the_rules_catch_each_kind_of_back_edge() -> None:
    def edge(source: str, target: str) -> Import:
        return Import("x.py", 1, source, target, f"import {target}")

    assert violation(edge("hub.config.loader", "hub.escalation.model")) is not None
    assert violation(edge("hub.hookspecs", "hub.escalation.rules")) is not None
    assert violation(edge("hub.plugins", "hub.http")) is not None
    assert violation(edge("hub.devices", "plugins.panels")) is not None
    assert violation(edge("hub.transports.serial", "hub.decoding")) is not None
    assert violation(edge("hub.transports.serial", "hub.bus")) is not None
    assert violation(edge("plugins.panels.devices", "hub.journal")) is not None
    assert violation(edge("hub.escalation.engine", "hub.http.app")) is not None
    assert violation(edge("hub.http.app", "hub.escalation.engine")) is not None
    assert violation(edge("hub.escalation.engine", "plugins.escalation")) is not None
    assert violation(edge("hub.cli", "plugins.panels.decode_cli")) is not None
    assert violation(edge("plugins.panels", "hub.escalation.rules")) is not None
    assert violation(edge("plugins.sim.demo", "plugins.panels.simulators")) is not None
    assert violation(edge("plugins.sim", "plugins.panels")) is not None
    assert violation(edge("hub.config", "hub.app")) is not None
    assert violation(edge("hub.escalation.engine", "hub.plugins")) is not None
    # And what is allowed stays allowed.
    assert violation(edge("hub.http.app", "hub.escalation.model")) is None
    assert violation(edge("hub.http.coverage_api", "hub.coverage.report")) is not None
    assert violation(edge("hub.http.coverage_api", "hub.coverage.report_source")) is None
    assert violation(edge("hub.http.coverage_view", "hub.coverage.model")) is None
    assert violation(edge("hub.http.coverage_view", "hub.coverage.store")) is not None
    assert violation(edge("hub.events", "hub.coverage")) is not None
    assert violation(edge("plugins.coverage", "hub.coverage.config")) is None
    assert violation(edge("hub.escalation.engine", "hub.config")) is None
    assert violation(edge("hub.app", "hub.escalation.engine")) is None
    assert violation(edge("plugins.escalation", "hub.escalation.config")) is None
    assert violation(edge("plugins.homeassistant", "hub.homeassistant.config")) is None
    assert violation(edge("hub.app", "hub.homeassistant")) is None
    assert violation(edge("hub.state.registry", "hub.homeassistant")) is not None
    assert violation(edge("hub.homeassistant.publisher", "hub.plugins")) is not None
    assert violation(edge("plugins.panels", "hub.homeassistant")) is not None
    assert violation(edge("plugins.panels.devices", "plugins.panels.framing")) is None
    assert violation(edge("plugins.panels", "hub.devices")) is not None
    assert violation(edge("plugins.panels", "hub.sdk")) is None
    assert violation(edge("plugins.coverage", "hub.coverage.register_cli")) is None
    assert violation(edge("hub.coverage.register_source", "hub.escalation.outbox")) is None
    assert violation(edge("hub.escalation.engine", "hub.coverage.register")) is not None
    assert violation(edge("hub.state.registry", "hub.coverage")) is not None


def test_relative_imports_are_resolved() -> None:
    assert _resolve("hub.config.loader", False, 1, "fields") == "hub.config.fields"
    assert _resolve("hub.config", True, 1, "fields") == "hub.config.fields"
    assert _resolve("hub.config.loader", False, 2, "escalation") == "hub.escalation"
    assert _resolve("hub.config.loader", False, 2, None) == "hub"
