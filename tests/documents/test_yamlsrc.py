"""The event pass over libyaml gives exactly what PyYAML's composer gives, or hands the document to it."""

from __future__ import annotations

import pytest

from bench.scale import inventory_yaml, mou_yaml
from broker.documents.yamlsrc import YamlSyntaxError, _composed, _Fallback, _from_events, load_located
from tests.paths import EXAMPLE, REPO

SNIPPETS = [
    "a: 1\nb: [1, 2.5, .inf, -.Inf, .nan, 0x1F, 0o17, 017, 1_000, 190:20:30, true, yes, No, off, ~, null, '', \"x\"]\n",
    "a:\n  b:\n  c: 2026-01-01\n  d: 12:30\n  e: |\n    text\n  a: dup\n",
    "- {x: 1}\n- [a, b]\n- - nested\n  - 2\n",
    "",
    "   \n",
    "# only a comment\n",
    "1: a\n'1': b\n",
    "~: x\nnull: y\n",
    "x: -30s\ny: 4h\nz: +5\nw: 1e3\nv: 1.0e+3\nu: 2026-09-14T13:05:00Z\n",
    "key: 'quoted: yes'\nk2: \"esc\\n\"\nk3: >\n  folded\n  text\n",
    "a: [\n  1,\n  2\n]\nb: {c: {d: [e, {f: g}]}}\n",
    "top:\n  - id: x\n    id: y\n  - {id: z, id: z}\n",
]
FALLBACK = ["x: !!str 3\n", "x: &a 1\ny: *a\n", "<<: {a: 1}\n", "a: 1\n---\nb: 2\n", "? [a]\n: 1\n"]


def documents() -> list[str]:
    files = sorted((REPO / "policies").rglob("*.yaml")) + sorted(REPO.joinpath("config").glob("*.yaml"))
    files += sorted(EXAMPLE.rglob("*.yaml"))
    assert len(files) >= 6
    # and regional-scale documents as bench/scale.py writes them (flow mappings, floats, quoted URLs)
    return [f.read_text(encoding="utf-8") for f in files] + [inventory_yaml(1000, districts=10), mou_yaml(3, 2)]


def same(a, b) -> bool:  # repr: nan != nan, but both print "nan"
    return repr(a.data) == repr(b.data) and a.lines == b.lines and a.duplicates == b.duplicates


@pytest.mark.parametrize("text", SNIPPETS + documents())
def test_event_pass_equals_pyyaml_composer(text: str) -> None:
    fast = _from_events(text)
    assert same(fast, _composed(text))


def test_dates_stay_text_and_duplicates_carry_their_lines() -> None:
    got = _from_events("when: 2026-07-01\nwhen: 2026-07-02\nlist:\n  - a\n  - b\n")
    assert got.data == {"when": "2026-07-02", "list": ["a", "b"]}
    assert got.duplicates == [(("when",), 2)]
    assert got.lines[("list", 1)] == 5 and got.lines[("when",)] == 2


@pytest.mark.parametrize("text", FALLBACK)
def test_features_the_event_pass_leaves_to_pyyaml(text: str) -> None:
    with pytest.raises(_Fallback):
        _from_events(text)
    try:
        expected = _composed(text)
    except YamlSyntaxError as exc:  # several documents: PyYAML's own error, with its line
        with pytest.raises(YamlSyntaxError) as got:
            load_located(text)
        assert str(got.value) == str(exc) and got.value.line == exc.line
    else:
        assert same(load_located(text), expected)


def test_anchor_and_merge_key_values_come_from_pyyaml() -> None:
    assert load_located("base: &b {zone: exterior}\ncam:\n  <<: *b\n  id: c1\n").data == {
        "base": {"zone": "exterior"},
        "cam": {"zone": "exterior", "id": "c1"},
    }


@pytest.mark.parametrize(("text", "line"), [("a: [1, 2\n", 2), ("a: b: c\n", 1), ("a:\n  - x\n y: 1\n", 3)])
def test_syntax_errors_are_pyyamls_with_their_line(text: str, line: int) -> None:
    with pytest.raises(YamlSyntaxError) as got:
        load_located(text)
    assert got.value.line == line and str(got.value).startswith("YAML syntax error:")


def test_aliases_that_expand_beyond_the_bound_are_refused_at_once() -> None:
    """A "billion laughs" of 12 levels (9^12 values in 600 bytes) is a syntax error at line 1, not hours of work;
    anchors used as documents use them (a defaults block merged into many cameras) still load."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    with pytest.raises(YamlSyntaxError) as got:
        load_located("\n".join(lines) + "\n")
    assert got.value.line == 1 and "aliases expand to more than 50000 values" in str(got.value)
    with pytest.raises(YamlSyntaxError):
        load_located("a: &a [*a]\n")  # an alias of itself
    cameras = "".join(f"  - {{<<: *d, id: cam-{i}}}\n" for i in range(2000))
    loaded = load_located(f"defaults: &d {{zone: exterior, site: s1, building: b1}}\ncameras:\n{cameras}")
    assert len(loaded.data["cameras"]) == 2000 and loaded.data["cameras"][1999]["zone"] == "exterior"
