"""YAML loading that remembers where every value came from, so errors can say ``FILE:LINE``.

Documents are parsed by libyaml (PyYAML's C parser). PyYAML's own composer builds a node object, with
marks, for every scalar, which costs about 1.4 s on a 10,000-camera inventory; the parser's *events* carry
the same marks and cost a tenth of that. So :func:`load_located` builds the data and the line map in one
pass over the events, resolving plain scalars exactly as ``SafeLoader`` does (YAML 1.1 core tags, dates
left as text). Anything that pass does not handle itself (anchors and aliases, explicit tags, merge keys,
complex keys, several documents, any error) goes to PyYAML's composer and constructor instead, so the
result, and every error message, is PyYAML's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import ScalarNode

Path_ = tuple[str | int, ...]
_STR = "tag:yaml.org,2002:str"


@dataclass
class Located:
    """A parsed document and the 1-based line of every path in it (keys and values)."""

    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    duplicates: list[tuple[Path_, int]] = field(default_factory=list)

    def line_of(self, path: Path_) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


def _without_timestamps(resolvers: dict[Any, list[Any]]) -> dict[Any, list[Any]]:
    return {
        first: [(tag, rx) for tag, rx in rs if tag != "tag:yaml.org,2002:timestamp"] for first, rs in resolvers.items()
    }


_BASE: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it


class _Loader(_BASE):
    """Safe loader that leaves dates as text (the models parse them, with a field-level error)."""


_Loader.yaml_implicit_resolvers = _without_timestamps(yaml.SafeLoader.yaml_implicit_resolvers)
_RESOLVERS: dict[Any, list[Any]] = _Loader.yaml_implicit_resolvers
_WILDCARD = _RESOLVERS.get(None, [])
_CONSTRUCTOR = SafeConstructor()
_HANDLED_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    _STR,
}


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


class _Fallback(Exception):
    """The event pass met something it leaves to PyYAML's composer."""


_NO_KEY = object()


def _plain(value: str, cache: dict[str, Any]) -> Any:
    """A plain scalar's value, resolved as ``SafeLoader`` resolves it (``Resolver.resolve``)."""
    try:
        return cache[value]
    except KeyError:
        pass
    tag = _STR
    for t, regexp in _RESOLVERS.get(value[0] if value else "", []) + _WILDCARD:
        if regexp.match(value):
            tag = t
            break
    if tag not in _HANDLED_TAGS:  # merge keys ("<<") and the like: PyYAML's constructor decides
        raise _Fallback(tag)
    result = value if tag == _STR else _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, ScalarNode(tag, value))
    cache[value] = result
    return result


def _from_events(text: str) -> Located:
    """One pass over libyaml's events: the data, the line of every path and the duplicate keys."""
    out = Located(data=None)
    lines = out.lines
    cache: dict[str, Any] = {}
    # A frame: [container, its path, pending key (or _NO_KEY), the pending key's text, keys seen]
    stack: list[list[Any]] = []
    documents = 0
    for ev in yaml.parse(text, Loader=_Loader):
        cls = type(ev)
        if cls is ScalarEvent:
            if ev.anchor is not None or ev.tag is not None:
                raise _Fallback("anchor or tag")
            value: Any = _plain(ev.value, cache) if ev.implicit[0] else ev.value
            opened: dict[Any, Any] | list[Any] | None = None
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            if ev.anchor is not None or ev.tag is not None:
                raise _Fallback("anchor or tag")
            value = opened = {} if cls is MappingStartEvent else []
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            stack.pop()
            continue
        elif cls is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Fallback("several documents")
            continue
        elif cls.__name__ == "AliasEvent":
            raise _Fallback("alias")
        else:  # stream start/end, document end
            continue
        line = ev.start_mark.line + 1
        if not stack:
            out.data, path = value, ()
            lines.setdefault(path, line)
        else:
            frame = stack[-1]
            container = frame[0]
            if type(container) is list:
                path = (*frame[1], len(container))
                lines.setdefault(path, line)
                container.append(value)
            elif frame[2] is _NO_KEY:  # this is a key
                if opened is not None:
                    raise _Fallback("complex key")
                key_text = ev.value
                path = (*frame[1], key_text)
                if key_text in frame[4]:
                    out.duplicates.append((path, line))
                frame[4].add(key_text)
                lines[path] = line
                frame[2], frame[3] = value, key_text
                continue
            else:
                path = (*frame[1], frame[3])
                lines.setdefault(path, line)
                container[frame[2]] = value
                frame[2] = _NO_KEY
        if opened is not None:
            stack.append([opened, path, _NO_KEY, None, set()])
    return out


def _nodes(root: yaml.Node) -> list[int]:
    """The ids of the document's distinct nodes (each alias target once)."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            todo.extend(n for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
    return list(seen)


def _walk(node: yaml.Node, path: Path_, out: Located) -> None:
    out.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                out.duplicates.append((child, key_node.start_mark.line + 1))
            seen.add(key)
            out.lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), out)


# Aliases make a graph whose expansion can be exponential in its size ("billion laughs": nine aliases of nine aliases
# of ... in 300 bytes). Every path of the expansion is walked (lines) and validated, so it is bounded: at most
# EXPANSION_FACTOR times the document's own nodes, or EXPANSION_FLOOR, whichever is more.
EXPANSION_FACTOR = 10
EXPANSION_FLOOR = 50_000


def _expanded_size(root: yaml.Node, limit: int) -> int | None:
    """How many nodes the document has with every alias expanded; None once past ``limit`` (or a cycle)."""
    sizes: dict[int, int | None] = {}  # id -> expanded size; None while being counted (a cycle)

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            known = sizes[key]
            return limit + 1 if known is None else known
        sizes[key] = None
        total = 1
        children = (
            [n for pair in node.value for n in pair]
            if isinstance(node, yaml.MappingNode)
            else node.value
            if isinstance(node, yaml.SequenceNode)
            else []
        )
        for child in children:
            total += size(child)
            if total > limit:
                break
        sizes[key] = min(total, limit + 1)
        return sizes[key] or 0

    counted = size(root)
    return None if counted > limit else counted


def _composed(text: str) -> Located:
    """PyYAML's composer and constructor: every YAML feature, and PyYAML's own error messages."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                distinct = len(set(_nodes(node)))
                limit = max(EXPANSION_FACTOR * distinct, EXPANSION_FLOOR)
                if _expanded_size(node, limit) is None:
                    raise YamlSyntaxError(
                        f"its aliases expand to more than {limit} values (a document of {distinct}); "
                        "write the values out",
                        1,
                    )
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlSyntaxError(f"YAML syntax error: {exc.problem or exc}", line) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise YamlSyntaxError(f"YAML error: {exc}", 1) from None
    out = Located(data=data)
    if node is not None:
        _walk(node, (), out)
    return out


def load_located(text: str) -> Located:
    """Parse one YAML document (safe loader only) and map paths to lines."""
    try:
        return _from_events(text)
    except (_Fallback, yaml.YAMLError, ValueError, TypeError, RecursionError):
        return _composed(text)


def dotted(path: Path_) -> str:
    """``("grants", 0, "zones")`` → ``grants.0.zones``; the root is ``(document)``."""
    return ".".join(str(p) for p in path) if path else "(document)"
