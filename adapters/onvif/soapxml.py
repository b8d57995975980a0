"""A small SOAP 1.2 envelope builder and a guarded XML reader for ONVIF answers.

The broker does not carry a SOAP stack: ONVIF needs a handful of request shapes and reads a few fields of each
answer, so requests are written from escaped text and answers are read into a tiny tree (:class:`Node`).

Reading is guarded the way defusedxml guards :mod:`xml.etree` (answers come from devices on school networks,
not from anyone we trust): a document type declaration is refused outright (SOAP 1.2 Part 1 §5: "A SOAP message
MUST NOT contain a Document Type Declaration"), so no entity expansion ("billion laughs") and no external
entity (XXE) can happen; processing instructions are refused too (same section); and size, depth and element
count are capped before and while parsing. Namespace prefixes in scope are kept per element, so QName values
such as a fault's ``ter:NotAuthorized`` (ONVIF Core §5.8.2) resolve to their namespace.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
NAMESPACES = {
    "env": SOAP_ENV,
    "tt": "http://www.onvif.org/ver10/schema",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tse": "http://www.onvif.org/ver10/search/wsdl",
    "trp": "http://www.onvif.org/ver10/replay/wsdl",
    "ter": "http://www.onvif.org/ver10/error",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
MAX_DEPTH = 64
MAX_ELEMENTS = 200_000


class MalformedXml(ValueError):
    """The bytes are not an acceptable XML document; the message says what and where."""


def q(prefixed: str) -> str:
    """``"tt:Uri"`` -> ``"{http://www.onvif.org/ver10/schema}Uri"`` (Clark notation)."""
    prefix, _, local = prefixed.partition(":")
    return "{" + NAMESPACES[prefix] + "}" + local


def el(name: str, *children: str, attrs: dict[str, str] | None = None) -> str:
    """An element written as text. ``children`` are already-built elements; use :func:`text_el` for text."""
    attributes = "".join(f" {key}={quoteattr(value)}" for key, value in (attrs or {}).items())
    return f"<{name}{attributes}>{''.join(children)}</{name}>"


def text_el(name: str, text: str, attrs: dict[str, str] | None = None) -> str:
    attributes = "".join(f" {key}={quoteattr(value)}" for key, value in (attrs or {}).items())
    return f"<{name}{attributes}>{escape(text)}</{name}>"


def envelope(body: str, header: str = "") -> bytes:
    """A SOAP 1.2 envelope declaring every prefix of :data:`NAMESPACES`."""
    declarations = "".join(f' xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES.items())
    head = f"<env:Header>{header}</env:Header>" if header else ""
    document = f"<env:Envelope{declarations}>{head}<env:Body>{body}</env:Body></env:Envelope>"
    return b'<?xml version="1.0" encoding="UTF-8"?>' + document.encode()


@dataclass(slots=True, eq=False)
class Node:
    """An element: ``tag`` in Clark notation, the prefixes in scope, attributes, children and direct text."""

    tag: str
    nsmap: dict[str, str]
    attrib: dict[str, str] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    text: str = ""

    @property
    def local(self) -> str:
        return self.tag.rpartition("}")[2]

    def child(self, tag: str) -> Node | None:
        """The first child with ``tag`` (Clark notation, or a bare local name matching any namespace)."""
        return next(self.iter_children(tag), None)

    def iter_children(self, tag: str) -> Iterator[Node]:
        bare = not tag.startswith("{")
        return (c for c in self.children if (c.local if bare else c.tag) == tag)

    def path(self, *tags: str) -> Node | None:
        node: Node | None = self
        for tag in tags:
            node = node.child(tag) if node is not None else None
        return node

    def path_text(self, *tags: str) -> str | None:
        node = self.path(*tags)
        return None if node is None else node.text.strip()

    def resolve_qname(self, value: str) -> str:
        """A QName value (``ter:NotAuthorized``) in Clark notation, by the prefixes in scope here."""
        prefix, sep, local = value.strip().rpartition(":")
        uri = self.nsmap.get(prefix if sep else "")
        return "{" + uri + "}" + local if uri else local


class _Builder:
    def __init__(self, max_depth: int, max_elements: int) -> None:
        self.max_depth, self.max_elements = max_depth, max_elements
        self.stack: list[Node] = []
        self.root: Node | None = None
        self.pending: dict[str, str] = {}
        self.count = 0

    def start_ns(self, prefix: str | None, uri: str | None) -> None:
        self.pending[prefix or ""] = uri or ""

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.count += 1
        if self.count > self.max_elements:
            raise MalformedXml(f"more than {self.max_elements} elements")
        if len(self.stack) >= self.max_depth:
            raise MalformedXml(f"elements nested deeper than {self.max_depth}")
        nsmap = dict(self.stack[-1].nsmap) if self.stack else {}
        if self.pending:
            nsmap.update(self.pending)
            self.pending = {}
        node = Node(_clark(name), nsmap, {_clark(k): v for k, v in attrs.items()})
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def end(self, name: str) -> None:
        self.stack.pop()

    def data(self, text: str) -> None:
        if self.stack:
            self.stack[-1].text += text


def _clark(name: str) -> str:
    uri, sep, local = name.rpartition(" ")
    return "{" + uri + "}" + local if sep else local


def _refuse(what: str) -> MalformedXml:
    return MalformedXml(f"{what} is not allowed in a SOAP message (SOAP 1.2 Part 1 §5)")


def parse(body: bytes, *, max_bytes: int, max_depth: int = MAX_DEPTH, max_elements: int = MAX_ELEMENTS) -> Node:
    """The root element of ``body``; :class:`MalformedXml` says what is wrong and where."""
    if len(body) > max_bytes:
        raise MalformedXml(f"{len(body)} bytes, over the {max_bytes}-byte limit")
    builder = _Builder(max_depth, max_elements)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def no_doctype(*_: object) -> None:
        raise _refuse("a document type declaration")

    def no_entity(*_: object) -> None:
        raise _refuse("an entity declaration")

    def no_pi(*_: object) -> None:
        raise _refuse("a processing instruction")

    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_entity
    parser.UnparsedEntityDeclHandler = no_entity
    parser.ExternalEntityRefHandler = no_entity  # type: ignore[assignment]
    parser.ProcessingInstructionHandler = no_pi
    parser.StartNamespaceDeclHandler = builder.start_ns
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise MalformedXml(
            f"not well-formed XML at line {exc.lineno} column {exc.offset}: {expat.ErrorString(exc.code)}"
        ) from None
    if builder.root is None:
        raise MalformedXml("no root element")
    return builder.root
