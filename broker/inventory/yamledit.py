"""Textual edits of the inventory document that keep everything else byte for byte: comments, layout, quoting.

School IT maintains the inventory by hand; inventory sync must change only what it means to change. So the
document is parsed once for its node positions (PyYAML's composer marks, character offsets) and edited as
text: a key set or removed in one camera's mapping, new cameras appended as one flow mapping a line at the end
of ``cameras:``. Cameras written as flow mappings (``- {id: …, name: …}``, the usual layout) and as block
mappings are both handled; a camera written through YAML anchors or merge keys is refused (:class:`EditError`)
rather than guessed at.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# libyaml when PyYAML was built with it (its marks' index counts characters too): 20-50 times faster at 10,000 cameras.
_COMPOSER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DASH_PREFIX = re.compile(r"^(\s*)-\s+$")
# YAML 1.1 §5.1 printable characters; everything else (and the line breaks NEL, LS, PS) is escaped.
_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\x85\u2028\u2029]")


class EditError(ValueError):
    """The document cannot be edited textually as asked; the message says where and what to do."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def quoted(text: str) -> str:
    """A YAML double-quoted scalar (§7.3.1) that reads back as exactly ``text``."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\n", "\\n")
    return '"' + _UNPRINTABLE.sub(_escape, body.replace("\r", "\\r")) + '"'


def scalar(text: str) -> str:
    """``text`` as a flow-context scalar: plain when that reads back as the same string, else double-quoted."""
    if text and text == text.strip() and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ._/()-]*", text):
        try:
            if yaml.safe_load(f"{{k: {text}}}") == {"k": text}:  # not a number, bool or null in disguise
                return text
        except yaml.YAMLError:
            pass
    return quoted(text)


def flow_mapping(pairs: list[tuple[str, str]]) -> str:
    """``{key: value, …}`` from keys and already rendered scalars."""
    return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"


@dataclass
class _Edit:
    start: int
    end: int
    text: str


@dataclass
class InventoryText:
    """The inventory's text and the positions of its cameras; edits are collected and applied by :meth:`result`."""

    text: str
    _root: MappingNode = field(init=False)
    _cameras_key: ScalarNode | None = field(init=False, default=None)
    _cameras: Node | None = field(init=False, default=None)
    _items: list[Node] = field(init=False, default_factory=list)
    _shared: set[int] = field(init=False, default_factory=set)
    _edits: list[_Edit] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        try:
            root = yaml.compose(self.text, Loader=_COMPOSER)
        except yaml.YAMLError as exc:
            raise EditError(f"the inventory is not YAML sync can edit: {exc}") from None
        if not isinstance(root, MappingNode):
            raise EditError("the inventory's top level is not a mapping")
        self._root = root
        for key, value in root.value:
            if isinstance(key, ScalarNode) and key.value == "cameras":
                self._cameras_key, self._cameras = key, value
        if isinstance(self._cameras, SequenceNode):
            self._items = list(self._cameras.value)
            seen: set[int] = set()
            for item in self._items:  # an alias repeats a node elsewhere: its marks are not this item's text
                merges = isinstance(item, MappingNode) and _has_merge_key(item)
                if id(item) in seen or merges or not _self_contained(item, item):
                    self._shared.add(id(item))
                seen.add(id(item))

    @property
    def cameras(self) -> list[Node]:
        """The nodes of ``cameras:`` items, in order (read them; edit through the methods below)."""
        return list(self._items)

    # -- one camera's keys ------------------------------------------------------------------------------

    def set_key(self, index: int, key: str, rendered: str) -> None:
        """Set ``key`` of camera ``index`` to the rendered scalar (replacing its value, or adding the pair)."""
        node = self._camera(index)
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value == key:
                self._edits.append(_Edit(v.start_mark.index, v.end_mark.index, rendered))
                return
        if node.flow_style:
            at = node.value[-1][1].end_mark.index
            self._edits.append(_Edit(at, at, f", {key}: {rendered}"))
            return
        last = _deepest_last(node)
        indent = node.value[0][0].start_mark.column
        at, before, after = self._line_end(last.end_mark.index)
        self._edits.append(_Edit(at, at, f"{before}{' ' * indent}{key}: {rendered}{after}"))

    def remove_key(self, index: int, key: str) -> None:
        """Remove ``key`` (and its value) from camera ``index``; nothing when it has no such key."""
        node = self._camera(index)
        pairs = node.value
        k = next((i for i, (kn, _) in enumerate(pairs) if isinstance(kn, ScalarNode) and kn.value == key), None)
        if k is None:
            return
        key_node, value_node = pairs[k]
        if k == 0:  # the first pair: up to the next key (its separator and indentation go with it)
            self._edits.append(_Edit(key_node.start_mark.index, pairs[1][0].start_mark.index, ""))
        elif node.flow_style:  # from the end of the previous value: the comma goes with it
            self._edits.append(_Edit(pairs[k - 1][1].end_mark.index, value_node.end_mark.index, ""))
        else:  # whole lines, its key's line to its value's last
            start = self.text.rfind("\n", 0, key_node.start_mark.index) + 1
            end = self.text.find("\n", _deepest_last(value_node).end_mark.index - 1)  # a nested block: its end
            self._edits.append(_Edit(start, len(self.text) if end < 0 else end + 1, ""))

    # -- new cameras --------------------------------------------------------------------------------------

    def append_cameras(self, mappings: list[str]) -> None:
        """Add each flow mapping text as a new item at the end of ``cameras:``, one a line."""
        if not mappings:
            return
        seq = self._cameras
        if seq is None:  # no cameras key at all
            sep = "" if self.text.endswith("\n") or not self.text else "\n"
            block = "".join(f"  - {m}\n" for m in mappings)
            self._edits.append(_Edit(len(self.text), len(self.text), f"{sep}cameras:\n{block}"))
        elif isinstance(seq, SequenceNode) and seq.flow_style:  # cameras: [ … ]
            close = self.text.rfind("]", seq.start_mark.index, seq.end_mark.index)
            lead = ", " if seq.value else ""
            self._edits.append(_Edit(close, close, lead + ", ".join(mappings)))
        elif isinstance(seq, SequenceNode) and seq.value:
            last = seq.value[-1]
            line_start = self.text.rfind("\n", 0, last.start_mark.index) + 1
            prefix = self.text[line_start : last.start_mark.index]
            dash = _DASH_PREFIX.match(prefix)
            if dash is None:
                raise EditError(f"line {last.start_mark.line + 1}: cannot tell how the cameras list is indented")
            at, before, after = self._line_end(_deepest_last(last).end_mark.index)
            lines = "\n".join(f"{prefix}{m}" for m in mappings)
            self._edits.append(_Edit(at, at, f"{before}{lines}{after}"))
        else:
            line = self._cameras_key.start_mark.line + 1 if self._cameras_key is not None else 1
            raise EditError(f"line {line}: cameras is not a list")

    # -- the result ---------------------------------------------------------------------------------------

    def result(self) -> str:
        """The text with every edit applied (edits never overlap: each touches one camera or the list's end)."""
        out = self.text
        ordered = sorted(self._edits, key=lambda e: (e.start, e.end))
        for a, b in itertools.pairwise(ordered):
            if b.start < a.end:
                raise EditError("overlapping edits of the inventory")  # a bug: never write such a text
        for edit in reversed(ordered):
            out = out[: edit.start] + edit.text + out[edit.end :]
        return out

    def _camera(self, index: int) -> MappingNode:
        node = self._items[index]
        line = node.start_mark.line + 1
        if id(node) in self._shared:
            how = "write it out as a plain mapping so sync can edit it"
            raise EditError(f"line {line}: camera {index} is written with YAML anchors, aliases or merge keys; {how}")
        if not isinstance(node, MappingNode) or not node.value:
            raise EditError(f"line {line}: camera {index} is not a mapping")
        return node

    def _line_end(self, index: int) -> tuple[int, str, str]:
        """Where to put new lines after the node ending at ``index``: (offset, text before, text after)."""
        if index > 0 and self.text[index - 1] == "\n":  # a block scalar ends at the start of the next line
            return index, "", "\n"
        end = self.text.find("\n", index)
        if end < 0:
            return len(self.text), "\n", ""
        return end, "\n", ""


def _deepest_last(node: Node) -> Node:
    """The node whose end is the end of ``node``'s text (block collections end where the next token starts)."""
    while not getattr(node, "flow_style", True) and isinstance(node, MappingNode | SequenceNode) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return node


def _has_merge_key(node: MappingNode) -> bool:
    return any(isinstance(k, ScalarNode) and k.value == "<<" for k, _ in node.value)


def _self_contained(node: Node, within: Node) -> bool:
    """Every node under ``node`` is written inside ``within``'s text (no alias to a node elsewhere)."""
    start, end = within.start_mark.index, within.end_mark.index
    if not (start <= node.start_mark.index and node.end_mark.index <= end):
        return False
    if isinstance(node, MappingNode):
        return all(_self_contained(k, within) and _self_contained(v, within) for k, v in node.value)
    if isinstance(node, SequenceNode):
        return all(_self_contained(v, within) for v in node.value)
    return True
