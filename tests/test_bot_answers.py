"""An issue written with the story form, read back question by question into a story file."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.bot.answers import parse_issue_body, story_yaml
from pipelines.bot.issue_form import story_form
from pipelines.package import read_source_package
from pipelines.yamlfile import Mapping, parse_yaml
from tests.conftest import DATA

FORM = story_form(DATA)
PACKAGE = read_source_package(DATA)


def issue_body(**answers: str) -> str:
    parts = [
        f"### {item.label}\n\n{answers.get(item.target, '_No response_')}" for item in FORM.fields
    ]
    return "\n\n".join(parts) + "\n"


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            {"provider": "Old Mill Surgery [old-mill-surgery]", "ratings.overall": "4"},
            {"provider": "old-mill-surgery", "ratings.overall": "4", "consent": False},
        ),
        (
            {
                "provider": "A renamed place [old-mill-surgery]",
                "tags.good": "Food and drink, Safety",
            },
            {"provider": "old-mill-surgery", "tags.good": ["food", "safety"]},
        ),
        ({"provider": "somewhere unknown"}, {"provider": "somewhere unknown"}),
        (
            {"consent": "- [X] I agree", "service": "  Ward 3  "},
            {"consent": True, "service": "Ward 3"},
        ),
        ({"consent": "- [ ] I agree"}, {"consent": False}),
    ],
)
def test_answers_are_read_back_by_question(
    answers: dict[str, str], expected: dict[str, object]
) -> None:
    parsed = parse_issue_body(issue_body(**answers).replace("\n", "\r\n"), FORM)
    assert {key: parsed[key] for key in expected} == expected
    assert parsed["title"] is None


def test_a_story_may_quote_the_headings_of_other_questions() -> None:
    story = "First line.\n\n### Consent\n\n- [X] not the real box\n\n### Title\n\nstill the story"
    parsed = parse_issue_body(issue_body(story=story, title="Real title"), FORM)
    assert (parsed["story"], parsed["title"], parsed["consent"]) == (story, "Real title", False)


def test_a_hand_edited_issue_without_headings_reads_as_unanswered() -> None:
    parsed = parse_issue_body("I just typed my story here.", FORM)
    assert set(parsed.values()) == {None, False}


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1))
def test_any_story_text_survives_the_story_file(text: str) -> None:
    answers = {item.target: None for item in FORM.fields}
    answers["story"] = text + "\nsecond line"
    written = story_yaml(answers, {"id": "2026-11-22-abcdef"}, PACKAGE, FORM)
    root, issues = parse_yaml(written)
    assert issues == []
    assert isinstance(root, Mapping)
    lines = [line.rstrip() for line in (text + "\nsecond line").strip("\n").split("\n")]
    assert root.items["story"] == "\n".join(lines) + "\n"


@given(
    st.lists(
        st.one_of(
            st.sampled_from([f"### {item.label}" for item in FORM.fields] + ["_No response_"]),
            st.text(max_size=40),
        ),
        max_size=30,
    )
)
def test_any_issue_body_reads_without_error_into_yaml(parts: list[str]) -> None:
    # The body is the contributor's to write: whatever it holds, reading it never fails and
    # the story file is plain YAML our loader reads (the validator then says what is wrong).
    answers = parse_issue_body("\n\n".join(parts), FORM)
    assert set(answers) == {item.target for item in FORM.fields}
    root, issues = parse_yaml(story_yaml(answers, {"id": "2026-11-22-abcdef"}, PACKAGE, FORM))
    assert isinstance(root, Mapping)
    assert [i.code for i in issues] == []
