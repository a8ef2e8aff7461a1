"""YAML with positions: a small, typed tree that remembers where every value was written.

The configuration loader must report each mistake as ``FILE:LINE:COLUMN``, and all of
them at once. ``yaml.safe_load`` throws positions away and stops at the first oddity,
so this module composes the document (``yaml.compose`` with the safe loader, which
builds nodes without running any constructor) and turns the nodes into ``YScalar``,
``YMap`` and ``YSeq`` values that carry their ``Mark``. Only the standard scalar types
are constructed; a custom tag (``!secret``) is handed to a handler the caller provides,
and any other tag is a problem, never code.

Nothing here raises on bad input: every problem (syntax, duplicate key, unknown tag, an
alias that contains itself, an impossible date) becomes a ``YamlProblem`` and the rest
of the document is still read. A value that could not be read is the ``INVALID``
sentinel, so that validators skip it instead of reporting the same mistake twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml
from yaml.constructor import SafeConstructor

__all__ = [
    "FILE_PATH",
    "INVALID",
    "ROOT_PATH",
    "SYNTAX_PATH",
    "Mark",
    "TagError",
    "TagHandler",
    "YEntry",
    "YMap",
    "YNode",
    "YScalar",
    "YSeq",
    "YamlProblem",
    "contains_invalid",
    "join_path",
    "parse_yaml",
    "read_yaml",
    "to_plain",
]

#: Key paths used where a problem is not about one key: the file itself, its syntax,
#: and the document as a whole. The angle brackets keep them apart from real keys.
FILE_PATH: Final = "<file>"
SYNTAX_PATH: Final = "<yaml>"
ROOT_PATH: Final = "<root>"

_STD = "tag:yaml.org,2002:"
_MAP_TAG = _STD + "map"
_SEQ_TAG = _STD + "seq"
_MERGE_TAG = _STD + "merge"
_SCALAR_TAGS = frozenset(
    _STD + name for name in ("str", "int", "float", "bool", "null", "timestamp", "binary")
)


class _Invalid:
    """The type of ``INVALID``: a value that was already reported as unreadable."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<invalid>"


#: Stands for a value that could not be read; its problem is already reported.
INVALID: Final = _Invalid()


@dataclass(frozen=True, slots=True)
class Mark:
    """A position in a file, 1-based like an editor shows it."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class YScalar:
    """A single value.

    Attributes:
        value: the constructed value (str, int, float, bool, None, date, datetime,
            bytes), what a tag handler returned, or ``INVALID``.
        mark: where the value starts.
        text: the scalar's text as written (after quoting and escapes); for a custom
            tag it is the tag's argument (for ``!secret name``, the name, never the
            secret), so messages can quote it safely.
        tag: the custom tag (e.g. ``"!secret"``), or None for a plain YAML value.
    """

    value: Any
    mark: Mark
    text: str
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class YEntry:
    """One key and its value in a mapping."""

    key: YScalar
    value: YNode


@dataclass(frozen=True, slots=True)
class YMap:
    """A mapping, in source order (merged ``<<`` keys first, then the mapping's own).

    Attributes:
        entries: the entries by constructed key.
        mark: where the mapping starts (its first key, for a block mapping).
    """

    entries: Mapping[Hashable, YEntry]
    mark: Mark

    def get(self, key: Hashable) -> YNode | None:
        """The value node of ``key``, or None when absent."""
        entry = self.entries.get(key)
        return entry.value if entry is not None else None


@dataclass(frozen=True, slots=True)
class YSeq:
    """A list."""

    items: tuple[YNode, ...]
    mark: Mark


YNode = YScalar | YMap | YSeq


@dataclass(frozen=True, slots=True)
class YamlProblem:
    """Something wrong in the YAML itself, with where it is and the key path to it."""

    mark: Mark
    path: str
    reason: str


class TagError(Exception):
    """Raised by a tag handler to report why it cannot give a value (e.g. no such
    secret); the message becomes the problem's reason."""


#: Turns a custom tag's argument (the scalar's text) into its value, or raises TagError.
TagHandler = Callable[[str], Any]


_PLAIN_KEY = re.compile(r"[\w-]+")


def join_path(parent: str, key: object) -> str:
    """Extend a key path with a mapping key: ``site`` + ``timezone``.

    A key that is not a plain word is quoted (``site["my key"]``), so a path never
    spans lines nor reads ambiguously.
    """
    text = str(key)
    if not _PLAIN_KEY.fullmatch(text):
        return f"{parent}[{json.dumps(text, ensure_ascii=False)}]"
    return f"{parent}.{text}" if parent else text


def _mark(mark: yaml.Mark | None) -> Mark:
    if mark is None:
        return Mark(1, 1)
    return Mark(mark.line + 1, mark.column + 1)


def _syntax_reason(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or "invalid YAML"
    if exc.context and exc.context_mark is not None:
        at = _mark(exc.context_mark)
        return f"{exc.context} at line {at.line}, column {at.column}: {problem}"
    if exc.context:
        return f"{exc.context}: {problem}"
    return problem


def _offset_mark(text: str, offset: int) -> Mark:
    before = text[:offset]
    line = before.count("\n") + 1
    return Mark(line, offset - (before.rfind("\n") + 1) + 1)


class _Builder:
    """Turns composed nodes into the positioned tree, collecting problems."""

    def __init__(self, tags: Mapping[str, TagHandler], construct: bool) -> None:
        self.tags = tags
        self.construct = construct
        self.problems: list[YamlProblem] = []
        self._constructor = SafeConstructor()
        # An alias reuses its anchor's node: building it once keeps the tree a DAG
        # (no exponential "billion laughs" expansion) and reports its problems once.
        self._built: dict[int, YNode] = {}
        self._open: set[int] = set()

    def problem(self, mark: Mark, path: str, reason: str) -> None:
        self.problems.append(YamlProblem(mark, path or ROOT_PATH, reason))

    def build(self, node: yaml.Node, path: str) -> YNode:
        key = id(node)
        done = self._built.get(key)
        if done is not None:
            return done
        if key in self._open:
            mark = _mark(node.start_mark)
            self.problem(mark, path, "an alias refers to the mapping or list that contains it")
            return YScalar(INVALID, mark, "")
        self._open.add(key)
        try:
            if isinstance(node, yaml.MappingNode):
                built: YNode = self._mapping(node, path)
            elif isinstance(node, yaml.SequenceNode):
                built = self._sequence(node, path)
            else:
                built = self._scalar(node, path)
        finally:
            self._open.discard(key)
        self._built[key] = built
        return built

    def _construct(self, node: yaml.Node, path: str) -> Any:
        """The value of a standard scalar, or INVALID (reported)."""
        mark = _mark(node.start_mark)
        if node.tag not in _SCALAR_TAGS:
            self.problem(mark, path, f"unsupported tag {node.tag}")
            return INVALID
        if not self.construct:
            return None if node.tag == _STD + "null" else str(node.value)
        try:
            return self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError, TypeError) as exc:
            kind = str(node.tag).removeprefix(_STD)
            reason = getattr(exc, "problem", None) or str(exc)
            self.problem(mark, path, f"invalid {kind} {node.value!r}: {reason}")
            return INVALID

    def _scalar(self, node: yaml.Node, path: str) -> YScalar:
        mark = _mark(node.start_mark)
        text = str(node.value)
        handler = self.tags.get(node.tag)
        if handler is not None:
            try:
                value = handler(text)
            except TagError as exc:
                self.problem(mark, path, str(exc))
                value = INVALID
            return YScalar(value, mark, text, node.tag)
        return YScalar(self._construct(node, path), mark, text)

    def _sequence(self, node: yaml.SequenceNode, path: str) -> YNode:
        mark = _mark(node.start_mark)
        if node.tag != _SEQ_TAG:
            return self._bad_collection_tag(node, path, mark)
        items = tuple(self.build(child, f"{path}[{i}]") for i, child in enumerate(node.value))
        return YSeq(items, mark)

    def _bad_collection_tag(self, node: yaml.Node, path: str, mark: Mark) -> YScalar:
        if node.tag in self.tags:
            self.problem(mark, path, f"{node.tag} takes a single value, not a mapping or list")
        else:
            self.problem(mark, path, f"unsupported tag {node.tag}")
        return YScalar(INVALID, mark, "")

    def _mapping(self, node: yaml.MappingNode, path: str) -> YNode:
        mark = _mark(node.start_mark)
        if node.tag != _MAP_TAG:
            return self._bad_collection_tag(node, path, mark)
        own: dict[Hashable, YEntry] = {}
        merged: dict[Hashable, YEntry] = {}
        for key_node, value_node in node.value:
            key_mark = _mark(key_node.start_mark)
            if key_node.tag == _MERGE_TAG:
                self._merge(self.build(value_node, path), merged, path)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_mark, path, "a key must be a single value")
                continue
            if key_node.tag in self.tags:
                self.problem(key_mark, path, f"{key_node.tag} cannot be used on a key")
                continue
            key = self._construct(key_node, path)
            if key is INVALID:
                continue
            text = str(key_node.value)
            child_path = join_path(path, text)
            first = own.get(key)
            if first is not None:
                self.problem(
                    key_mark,
                    child_path,
                    f"duplicate key {text!r} (first at line {first.key.mark.line})",
                )
                continue
            own[key] = YEntry(YScalar(key, key_mark, text), self.build(value_node, child_path))
        entries = {k: e for k, e in merged.items() if k not in own}
        entries.update(own)
        return YMap(entries, mark)

    def _merge(self, source: YNode, into: dict[Hashable, YEntry], path: str) -> None:
        """Apply a ``<<`` merge: earlier sources win, the mapping's own keys win over all."""
        sources = source.items if isinstance(source, YSeq) else (source,)
        for item in sources:
            if isinstance(item, YMap):
                for key, entry in item.entries.items():
                    into.setdefault(key, entry)
            elif not (isinstance(item, YScalar) and item.value is INVALID):
                self.problem(item.mark, path, "<< can only merge mappings")


def parse_yaml(
    text: str, tags: Mapping[str, TagHandler] | None = None, *, construct: bool = True
) -> tuple[YNode | None, list[YamlProblem]]:
    """Parse one YAML document into the positioned tree.

    Args:
        text: the document.
        tags: handlers for custom scalar tags (e.g. ``{"!secret": resolve}``); any
            other non-standard tag is a problem.
        construct: when False, every scalar stays the text as written (null stays
            None): for files of secrets, whose values must never be reinterpreted
            (``0123`` as 83) nor quoted in an error message.

    Returns:
        The root node (None for an empty document or one that could not be parsed) and
        every problem found. Never raises for bad input.
    """
    builder = _Builder(tags or {}, construct)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return None, [YamlProblem(_mark(mark), SYNTAX_PATH, _syntax_reason(exc))]
    except yaml.reader.ReaderError as exc:
        char = exc.character
        shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        reason = f"character {shown} is not allowed in YAML"
        return None, [YamlProblem(_offset_mark(text, exc.position), SYNTAX_PATH, reason)]
    except yaml.YAMLError as exc:
        return None, [YamlProblem(Mark(1, 1), SYNTAX_PATH, str(exc))]
    except RecursionError:
        return None, [YamlProblem(Mark(1, 1), SYNTAX_PATH, "the document is nested too deeply")]
    if node is None:
        return None, []
    try:
        root = builder.build(node, "")
    except RecursionError:
        return None, [YamlProblem(Mark(1, 1), SYNTAX_PATH, "the document is nested too deeply")]
    return root, builder.problems


def read_yaml(
    path: Path, tags: Mapping[str, TagHandler] | None = None, *, construct: bool = True
) -> tuple[YNode | None, list[YamlProblem]]:
    """Read and parse a YAML file; a missing or unreadable file is one problem.

    The file must be UTF-8 (a byte-order mark is allowed); a bad byte is reported at
    its line and column. ``tags`` and ``construct`` are as for ``parse_yaml``.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, [YamlProblem(Mark(1, 1), FILE_PATH, "file not found")]
    except OSError as exc:
        return None, [YamlProblem(Mark(1, 1), FILE_PATH, f"cannot read: {exc.strerror or exc}")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        reason = f"not valid UTF-8 (byte 0x{data[exc.start]:02x})"
        return None, [YamlProblem(Mark(line, column), SYNTAX_PATH, reason)]
    return parse_yaml(text, tags, construct=construct)


def _walk(node: YNode, seen: set[int]) -> Iterator[YScalar]:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, YScalar):
        yield node
    elif isinstance(node, YMap):
        for entry in node.entries.values():
            yield from _walk(entry.value, seen)
    else:
        for item in node.items:
            yield from _walk(item, seen)


def contains_invalid(node: YNode) -> bool:
    """Whether any value under ``node`` is ``INVALID`` (already reported)."""
    return any(scalar.value is INVALID for scalar in _walk(node, set()))


@dataclass(slots=True)
class _PlainBuilder:
    done: dict[int, Any] = field(default_factory=dict)

    def build(self, node: YNode) -> Any:
        known = self.done.get(id(node))
        if known is not None:
            return known
        if isinstance(node, YScalar):
            return node.value
        if isinstance(node, YMap):
            out: Any = {k: self.build(e.value) for k, e in node.entries.items()}
        else:
            out = [self.build(item) for item in node.items]
        self.done[id(node)] = out
        return out


def to_plain(node: YNode) -> Any:
    """The plain Python value of a node: dicts, lists and scalars (an alias shares the
    object its anchor built)."""
    return _PlainBuilder().build(node)
