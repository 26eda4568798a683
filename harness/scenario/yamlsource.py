"""Read YAML into plain data while remembering where every value came from.

PyYAML is asked to *compose* the document (nodes with start marks); we then build the
Python values ourselves so that each field path — ``("steps", 2, "timeout_s")`` — maps to
its line and column, and so that a duplicate key is an error instead of a silent overwrite.
Date-like scalars stay text (OCPP payloads carry RFC 3339 strings, not datetimes).

Scanning and parsing is libyaml's (C, several times faster than PyYAML's pure-Python scanner:
loading the whole library took ~2.6 s, most of it there) when PyYAML was built with it; the
nodes are still composed here, with the same marks. Text that libyaml refuses, or that our
composer refuses, is read again by the pure-Python parser, so every problem reported names
the same line, column and message whichever parser is installed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.scenario.errors import FieldPath, Problem, SourceLocation

__all__ = ["Located", "read_yaml", "read_yaml_text", "read_yaml_text_pure"]


MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences read (a real case file nests about 15 levels);
deeper is a problem at the line where it gets too deep, never a ``RecursionError``."""


class _Loader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type, with a bound on nesting depth."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # PyYAML's parser is iterative; composing recurses once per level, so it is bounded
        # here, before any Python value is built.
        return _bounded(self, super().compose_node, parent, index)


def _bounded(loader: Any, compose: Any, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
    """``compose(parent, index)`` one level deeper; a problem past :data:`MAX_DEPTH`."""
    if loader._depth >= MAX_DEPTH:
        mark = loader.peek_event().start_mark
        raise yaml.composer.ComposerError(
            None, None, f"mappings/sequences nest deeper than {MAX_DEPTH} levels", mark
        )
    loader._depth += 1
    try:
        node: yaml.Node | None = compose(parent, index)
        return node
    finally:
        loader._depth -= 1


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_UNSURE_CHARS = re.compile("[\t\r\ufeff\x85\u2028\u2029]")


class _Unsure(Exception):
    """Text the fast path leaves to the pure-Python parser."""


_CParser: Any = None
if getattr(yaml, "__with_libyaml__", False):  # PyYAML built with libyaml
    _CParser = yaml.cyaml.CParser  # type: ignore[attr-defined]

if _CParser is not None:

    class _CLoader(yaml.composer.Composer, _CParser, yaml.resolver.Resolver):  # type: ignore[misc]
        """libyaml's scanner and parser (``CParser``: its events carry the same marks) under
        PyYAML's Python composer (its ``get_single_node`` comes before the C one), bounded
        like :class:`_Loader`, with its resolvers."""

        yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
        _depth = 0

        def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
            # An explicit tag (rare in our files) resolves differently in libyaml's events
            # (``! ""`` is a text there, null in PyYAML): leave such text to the pure parser.
            if getattr(self.peek_event(), "tag", None) is not None:
                raise _Unsure("an explicit tag")
            return _bounded(self, super().compose_node, parent, index)

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.resolver.Resolver.__init__(self)


def _compose_fast(text: str) -> yaml.Node | None:
    """The document's node by libyaml's parser; raises whatever it or the composer raises
    (the caller then reads ``text`` again with the pure-Python parser)."""
    loader = _CLoader(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


@dataclass
class Located:
    """The data of one YAML document and the location of each field path in it."""

    data: Any
    file: str
    marks: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: FieldPath, *, key: bool = False) -> SourceLocation:
        """The closest known location of ``path`` (falling back to its parents).

        With ``key=True`` a mapping entry is located at its key (used for unknown fields).
        """
        probe = tuple(path)
        while True:
            if key and probe in self.key_marks:
                line, column = self.key_marks[probe]
                return SourceLocation(self.file, line, column)
            if probe in self.marks:
                line, column = self.marks[probe]
                return SourceLocation(self.file, line, column)
            if not probe:
                return SourceLocation(self.file, 1, 1)
            probe = probe[:-1]


def read_yaml(path: Path, *, display: str | None = None) -> tuple[Located | None, list[Problem]]:
    """Read one YAML file; return the located data, or ``None`` and the problems found."""
    name = display if display is not None else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(SourceLocation(name, 1, 1), (), f"cannot read the file: {exc}")]
    return read_yaml_text(text, file=name)


def read_yaml_text(text: str, *, file: str) -> tuple[Located | None, list[Problem]]:
    """Like :func:`read_yaml` for text already in memory (``file`` names it in errors)."""
    if _CParser is not None and text.endswith("\n") and not _UNSURE_CHARS.search(text):
        # libyaml ends a last line without a line break with one of its own, which moves
        # the marks of what is empty at the end; it takes tabs where PyYAML refuses them and
        # counts columns differently around a BOM and some line breaks: such text is read
        # by the pure parser.
        try:
            node = _compose_fast(text)
        except Exception:  # the pure-Python parser says what is wrong
            pass
        else:
            return _located(node, file)
    return read_yaml_text_pure(text, file=file)


def read_yaml_text_pure(text: str, *, file: str) -> tuple[Located | None, list[Problem]]:
    """:func:`read_yaml_text` with PyYAML's pure-Python parser (also its fallback: its
    problems are the ones reported)."""
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character
        shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        what = f"character {shown} is not allowed in YAML"
        return None, [Problem(SourceLocation(file, line, column), (), f"YAML syntax: {what}")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or "malformed YAML"
        context = f" ({exc.context})" if exc.context else ""
        return None, [
            Problem(SourceLocation(file, line, column), (), f"YAML syntax: {what}{context}")
        ]
    except yaml.YAMLError as exc:
        return None, [Problem(SourceLocation(file, 1, 1), (), f"YAML syntax: {exc}")]
    finally:
        if loader is not None:
            loader.dispose()
    return _located(node, file)


def _located(node: yaml.Node | None, file: str) -> tuple[Located | None, list[Problem]]:
    if node is None:
        return None, [Problem(SourceLocation(file, 1, 1), (), "the file is empty")]
    located = Located(data=None, file=file)
    problems: list[Problem] = []
    located.data = _Builder(located, problems).build(node, ())
    return located, problems


_MAX_VALUES = 200_000  # guards against alias bombs ("billion laughs")


class _Builder:
    """Builds Python values from composed nodes, recording marks and problems."""

    def __init__(self, located: Located, problems: list[Problem]) -> None:
        self.located = located
        self.problems = problems
        self.loader = _Loader("")
        self.active: set[int] = set()  # nodes on the current path: a repeat is a cycle
        self.explicit: dict[int, set[int]] = {}  # per mapping node: its own (non-merged) keys
        self.count = 0

    def _problem(self, node: yaml.Node, path: FieldPath, message: str) -> None:
        where = SourceLocation(
            self.located.file, node.start_mark.line + 1, node.start_mark.column + 1
        )
        self.problems.append(Problem(where, path, message))

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        self.located.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        self.count += 1
        if self.count > _MAX_VALUES:
            if self.count == _MAX_VALUES + 1:
                self._problem(node, path, f"more than {_MAX_VALUES} values (alias expansion?)")
            return None
        if id(node) in self.active:
            self._problem(node, path, "an alias refers to a value that contains it")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
            try:
                return self.loader.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                self._problem(node, path, f"bad YAML value: {exc}")
                return None
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[Any, Any]:
        if id(node) not in self.explicit:
            self.explicit[id(node)] = {
                id(key) for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge"
            }
            try:
                self.loader.flatten_mapping(node)  # merged (<<) entries first, then explicit
            except yaml.YAMLError as exc:
                self._problem(node, path, f"bad YAML merge: {exc}")
                return {}
        explicit = self.explicit[id(node)]
        result: dict[Any, Any] = {}
        merged: set[Any] = set()
        for key_node, value_node in node.value:
            key = self.build(key_node, (*path, "<key>"))
            self.located.marks.pop((*path, "<key>"), None)
            if not isinstance(key, str | int | float | bool) and key is not None:
                self._problem(key_node, path, f"expected a text key, got {key!r}")
                continue
            child = (*path, key if isinstance(key, str) else str(key))
            if key in merged and id(key_node) in explicit:
                merged.discard(key)  # an explicit key overrides a merged one (YAML merge)
                del result[key]
            if key in result:
                first = self.located.key_marks[child]
                message = f"duplicate key '{key}' (first given at line {first[0]})"
                self._problem(key_node, child, message)
                continue
            self.located.key_marks[child] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            result[key] = self.build(value_node, child)
            if id(key_node) not in explicit:
                merged.add(key)
        return result
