"""The simple YAML reader gives exactly what libyaml gives, or gives up."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.yamlfile import Mapping, Sequence, parse_simple_yaml, parse_yaml, parse_yaml_events

ROOT = Path(__file__).resolve().parent.parent

# Words with YAML's indicators, quotes, nulls, escapes and characters libyaml treats specially.
SAFE_WORDS = st.sampled_from(["care", "kind", "2026-05", "Ward 7", "é", "a, b", "x:y", "a#b"])
RISKY_WORDS = st.one_of(
    st.sampled_from(
        [
            "care",
            "Dr Patel",
            "A&E",
            "x: y",
            "x:y",
            "a #b",
            "a#b",
            "#c",
            "-",
            "- x",
            "-1",
            "?",
            "? x",
            "'q'",
            "it's",
            '"dq"',
            '"a\\"b"',
            "'a''b'",
            "[a]",
            "[a, b]",
            "[]",
            "{b: c}",
            "null",
            "Null",
            "~",
            "~x",
            "yes",
            "2026-05",
            "1",
            "é",
            "“quoted”",
            "\xa0",
            "\t",
            "\r",
            "\x85",
            "\u2028",
            "\ufeff",
            "\x07",
            "💬",
            "|",
            "|-",
            "|+",
            ">",
            "&a",
            "*a",
            "!t",
            "!!str",
            "%",
            "@",
            "`",
            ",",
            ":",
            "::",
            " ",
            "",
            "\\",
            "...",
            "---",
            "end:",
        ]
    ),
    st.text(max_size=4),
)
# Mostly words the simple reader takes, so that it is tested where it does not give up.
WORDS = st.one_of(*[SAFE_WORDS] * 7, RISKY_WORDS)
KEYS = st.one_of(
    *[st.sampled_from(["id", "title", "story", "a", "b", "author", "k-1", "k.x", "1", "_"])] * 7,
    st.sampled_from(["null", "Null", "a b", "-k", "?k", "k:", "'k'", "~", "true"]),
)


def often(common: object, *rare: object) -> st.SearchStrategy[object]:
    """common seven times in eight, else one of rare."""
    return st.one_of(*[st.just(common)] * 7, st.sampled_from(rare))


def value(draw: st.DrawFn) -> str:
    return " ".join(draw(st.lists(WORDS, max_size=3)))


@st.composite
def document(draw: st.DrawFn) -> str:
    lines: list[str] = []

    def block(indent: int, depth: int) -> None:
        for _ in range(draw(st.integers(1, 4))):
            form = draw(st.integers(0, 9))
            pad = " " * indent
            key = draw(KEYS)
            if form <= 2:
                sep = draw(often(" ", "  ", "", " \t"))
                lines.append(f"{pad}{key}:{sep}{value(draw)}{draw(often('', ' '))}")
            elif form == 3:
                header = draw(often("|", "|-", "|+", "|2", "| ", "| #c", ">", ">-"))
                lines.append(f"{pad}{key}: {header}")
                for _ in range(draw(st.integers(0, 4))):
                    margin = draw(often(2, 0, 1, 3, 4, 6)) + indent  # type: ignore[operator]
                    lines.append(" " * margin + value(draw))
            elif form == 4:
                items = draw(st.lists(WORDS, max_size=3))
                lines.append(f"{pad}{key}: [{', '.join(items)}]")
            elif form in (5, 6) and depth < 5:
                lines.append(f"{pad}{key}:")
                block(indent + draw(often(2, 0, 1, 4)), depth + 1)  # type: ignore[operator]
            elif form == 7:
                lines.append(f"{pad}{key}:")
                margin = indent + draw(often(2, 0, 3))  # type: ignore[operator]
                lines.extend(
                    " " * margin + draw(often("- ", "-", "-  ")) + value(draw)  # type: ignore[operator]
                    for _ in range(draw(st.integers(1, 3)))
                )
            elif form == 8:
                lines.append(" " * draw(st.integers(0, 6)) + "# " + value(draw))
            else:
                lines.append(" " * draw(st.sampled_from([0, 0, 1, 3])))

    if not draw(st.integers(0, 5)):
        lines.append(draw(st.sampled_from(["---", "# a note", "", "%YAML 1.1", " key: x"])))
    block(0, 0)
    return "\n".join(lines) + draw(often("\n", "", "\n\n", "\n  \n"))  # type: ignore[operator]


def same_as_libyaml(text: str) -> bool:
    """True when the simple reader gave up, or gave libyaml's document with no issues."""
    simple = parse_simple_yaml(text)
    return simple is None or parse_yaml_events(text) == (simple, [])


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document())
def test_the_simple_reader_agrees_with_libyaml_on_yaml_like_documents(text: str) -> None:
    assert same_as_libyaml(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab: -#|>[],'\"\n\t~&*!?"), max_size=60))
def test_the_simple_reader_agrees_with_libyaml_on_any_text(text: str) -> None:
    assert same_as_libyaml(text)


@pytest.mark.parametrize(
    "folder", ["data", "tests/data/sample", "tests/data/invalid"], ids=lambda f: f
)
def test_the_simple_reader_agrees_with_libyaml_on_every_file_we_have(folder: str) -> None:
    for path in sorted((ROOT / folder).rglob("*.yaml")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert same_as_libyaml(text), path


STORY = """# A note
id: 2026-05-01-abcdef
title: "A title: in quotes"
author:
  # who
  pseudonym: Sam
  role: patient
ratings:
  overall: 4
tags:
  good: [kind, quick]
  better: []
confirms:
- 2026-01-01-aaaaaa
story: |
  First line.

    An indented line.
  Last line.

status: published
"""


def test_the_simple_reader_reads_a_typical_story() -> None:
    root = parse_simple_yaml(STORY)
    assert isinstance(root, Mapping)
    assert root.line == 2
    assert root.key_lines == {
        "id": 2,
        "title": 3,
        "author": 4,
        "ratings": 8,
        "tags": 10,
        "confirms": 13,
        "story": 15,
        "status": 21,
    }
    assert root.items["title"] == "A title: in quotes"
    author = root.items["author"]
    assert isinstance(author, Mapping)
    assert (author.line, author.items) == (6, {"pseudonym": "Sam", "role": "patient"})
    assert root.items["confirms"] == Sequence(14, ["2026-01-01-aaaaaa"], [14])
    assert root.items["story"] == "First line.\n\n  An indented line.\nLast line.\n"
    assert parse_yaml(STORY) == parse_yaml_events(STORY) == (root, [])


@pytest.mark.parametrize(
    "text",
    [
        "title: a\n  continued\n",
        "title: a # note\n",
        "story: >\n  folded\n",
        "a: 1\na: 2\n",
        "a: &x 1\n",
        "a: !t 1\n",
        "---\na: 1\n",
        "- a\n",
        "a:\tb\n",
    ],
    ids=["continued", "comment", "folded", "duplicate", "anchor", "tag", "marker", "list", "tab"],
)
def test_the_simple_reader_gives_up_outside_its_subset(text: str) -> None:
    assert parse_simple_yaml(text) is None
