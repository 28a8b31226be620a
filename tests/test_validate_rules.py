"""The content rules of #3: personal data, markup, dates, quality and accepted findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.load import load_dataset
from pipelines.package import read_source_package
from pipelines.problems import Problem
from pipelines.validate import validate_dataset
from pipelines.validate.codes import CODES, PERSONAL_DATA
from pipelines.validate.policy import normalised_words, similarity, sketch
from pipelines.validate.privacy import free_text_fields, short_fields
from pipelines.validate.text import line_in_value, personal_data, spam_signals

TODAY = dt.date(2026, 11, 23)
STORY = "stories/2026/2026-01-05-aaaa01.yaml"


def problems_of(data_dir: Path) -> list[Problem]:
    return list(validate_dataset(load_dataset(data_dir), today=TODAY).report.problems)


def found(text: str) -> list[tuple[str, str]]:
    return [(f.code, f.text) for f in personal_data(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ann.lee@example.org please", [("email-address", "ann.lee@example.org")]),
        # Ofcom drama numbers: phonenumbers calls the first two invalid; we catch them anyway.
        ("ring 01632 960123 today", [("phone-number", "01632 960123")]),
        ("my mobile 07700 900123 is off", [("phone-number", "07700 900123")]),
        ("call 020 7946 0000 now", [("phone-number", "020 7946 0000")]),
        ("call +44 20 7946 0000 now", [("phone-number", "+44 20 7946 0000")]),
        ("my sister on +33 1 23 45 67 89", [("phone-number", "+33 1 23 45 67 89")]),
        ("on +1 202-555-0173 in the US", [("phone-number", "+1 202-555-0173")]),
        ("my NHS number is 943 476 5919", [("nhs-number", "943 476 5919")]),
        ("patient no 9434765919 on the band", [("nhs-number", "9434765919")]),
        ("NI number AB 12 34 56 C", [("national-insurance-number", "AB 12 34 56 C")]),
        ("they sent it to SW1A 1AA by mistake", [("postcode", "SW1A 1AA")]),
        ("Dr Howard and nurse Anna", [("titled-name", "Dr Howard"), ("titled-name", "nurse Anna")]),
        ("Mrs Patel rang back", [("titled-name", "Mrs Patel")]),
    ],
)
def test_personal_data_is_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # A valid NHS checksum without a word saying what the number is: not flagged (about
        # one random ten-digit string in ten passes the check).
        "the queue was 943 476 5919 people long",
        # A failing checksum, with context.
        "my NHS number is 943 476 5910",
        "we waited from 2025-01-15 until 10:30 on ward 12, room 101",
        "the nurse I saw was kind; the Nurse Practitioner too; a doctor On call",
        "Dr. Who fans will know; Sister Ward was closed",
        "I rated it 4 out of 5 and paid £12.50 for parking in bay 1234567",
        "COVID19 was everywhere, and the A&E was full at 3AM",
        "nursery staff were great",
    ],
)
def test_ordinary_text_is_not_personal_data(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "I <3 this ward",
        "<script>alert('x')</script> is what my son typed",
        "the letter said {{ patient_name }} at the top",
        "SELECT * FROM stories; DROP TABLE stories; --",
        "a ${template} and <b>bold</b> and [link](javascript:alert(1))",
    ],
)
def test_text_that_looks_like_markup_or_code_is_a_story(sample: Path, text: str) -> None:
    story = sample / STORY
    story.write_text(
        story.read_text().replace("She explained everything twice without sighing.", text)
    )
    assert problems_of(sample) == []


def test_finding_is_reported_on_its_line_within_the_block(sample: Path) -> None:
    story = sample / STORY
    story.write_text(
        story.read_text().replace("without sighing.", "without sighing, on 01632 960123.")
    )
    (problem,) = problems_of(sample)
    assert (problem.line, problem.field, problem.code, problem.got) == (
        21,
        "story",
        "phone-number",
        'a phone number: "01632 960123"',
    )
    assert problem.fix.startswith("remove the number")


@pytest.mark.parametrize(
    ("value", "offset", "line"),
    [("one line", 3, 7), ("first\nsecond\nthird\n", 0, 8), ("first\nsecond\nthird\n", 14, 10)],
)
def test_line_in_value(value: str, offset: int, line: int) -> None:
    assert line_in_value(7, value, offset) == line


@pytest.mark.parametrize(
    ("field", "written", "code", "line"),
    [
        ("title", "title: Quick appointment and a kind nurse", "title: Call 07700 900123", 4),
        ("service", "service: Appointments", "service: ann@example.org", 3),
        ("author.pseudonym", "pseudonym: Sample One", "pseudonym: Mrs Patel", 8),
    ],
)
def test_short_fields_are_scanned_too(
    sample: Path, field: str, written: str, code: str, line: int
) -> None:
    story = sample / STORY
    story.write_text(story.read_text().replace(written, code))
    assert [(p.line, p.field) for p in problems_of(sample)] == [(line, field)]


def test_response_text_change_summary_and_moderation_note_are_scanned(sample: Path) -> None:
    response = sample / "responses/2026/2026-01-12-resp01.yaml"
    response.write_text(
        response.read_text()
        .replace("more than 15 minutes.", "more than 15 minutes, ring 01632 960000.")
        .replace("runs late.", "runs late, says Mrs Patel.")
    )
    log = sample / "moderation.csv"
    log.write_text(log.read_text().replace("A name was removed.", "Nurse Anna was named."))
    codes = sorted((p.field, p.code) for p in problems_of(sample))
    assert codes == [
        ("change.summary", "phone-number"),
        ("note", "titled-name"),
        ("text", "titled-name"),
    ]


def test_free_text_fields_come_from_the_schemas() -> None:
    package = read_source_package(Path("data"))
    assert free_text_fields(package.table("stories")) == [
        "service",
        "title",
        "author.pseudonym",
        "licence",
        "story",
    ]
    assert free_text_fields(package.table("responses")) == ["text", "change.summary"]
    assert short_fields(package.table("stories")) == ["service", "title", "author.pseudonym"]


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\\t"])
def test_formula_prefix_in_a_short_field(sample: Path, prefix: str) -> None:
    story = sample / STORY
    story.write_text(
        story.read_text()
        .replace("title: Quick appointment", f'title: "{prefix}SUM(1) quick appointment')
        .replace("and a kind nurse\n", 'and a kind nurse"\n')
    )
    assert [(p.line, p.code) for p in problems_of(sample)] == [(4, "formula-prefix")]


def test_spam_signals_are_warnings() -> None:
    text = "Buy now at https://x.example www.spam.example! " + "spam " * 8
    assert [f.code for f in spam_signals(text)] == [
        "spam-advertising",
        "spam-link",
        "spam-link",
        "spam-repeated-text",
    ]
    assert {CODES[c].severity for c in ("spam-link", "spam-advertising", "titled-name")} == {
        "warning"
    }


def test_a_warning_does_not_fail_unless_strict(sample: Path) -> None:
    story = sample / STORY
    story.write_text(story.read_text().replace("the nurse was kind", "nurse Anna was kind"))
    report = validate_dataset(load_dataset(sample), today=TODAY).report
    assert [p.severity for p in report.problems] == ["warning"]
    assert (report.failed(), report.failed(strict=True)) == (False, True)


def test_accepted_finding_is_reported_as_accepted_not_as_a_problem(sample: Path) -> None:
    story = sample / STORY
    story.write_text(
        story.read_text().replace("without sighing.", "without sighing. Ring 0118 496 0000.")
    )
    (sample / "accepted-findings.csv").write_text(
        "record,field,code,text,reason,moderator,date\n"
        "2026-01-05-aaaa01,story,phone-number,0118 496 0000,"
        "The surgery's public switchboard number.,sample-moderator,2026-02-01\n"
    )
    report = validate_dataset(load_dataset(sample), today=TODAY).report
    assert report.problems == ()
    assert [(p.path, p.line, p.code) for p in report.accepted] == [
        ("sample/" + STORY, 21, "phone-number")
    ]


def test_acceptance_is_for_one_exact_text_only(sample: Path) -> None:
    story = sample / STORY
    story.write_text(
        story.read_text().replace(
            "without sighing.", "without sighing. Ring 0118 496 0000 or 0118 496 0001."
        )
    )
    (sample / "accepted-findings.csv").write_text(
        "record,field,code,text,reason,moderator,date\n"
        "2026-01-05-aaaa01,story,phone-number,0118 496 0000,"
        "The surgery's public switchboard number.,sample-moderator,2026-02-01\n"
    )
    report = validate_dataset(load_dataset(sample), today=TODAY).report
    assert [p.got for p in report.problems] == ['a phone number: "0118 496 0001"']
    assert len(report.accepted) == 1


def test_only_personal_data_and_warnings_can_be_accepted() -> None:
    package = read_source_package(Path("data"))
    allowed = package.table("accepted-findings").field("code")["constraints"]["enum"]
    assert set(PERSONAL_DATA) <= set(allowed)
    assert all(code in PERSONAL_DATA or CODES[code].severity == "warning" for code in allowed)


def test_dates_in_the_future_use_the_given_today(sample: Path) -> None:
    story = sample / STORY
    story.write_text(story.read_text().replace("submitted: 2026-01-05", "submitted: 2026-02-01"))
    dataset = load_dataset(sample)
    late = validate_dataset(dataset, today=dt.date(2026, 1, 31)).report.problems
    assert [(p.field, p.code) for p in late if p.path.endswith(STORY)] == [
        ("submitted", "date-in-future")
    ]
    on_the_day = validate_dataset(dataset, today=dt.date(2026, 2, 1)).report.problems
    assert [p for p in on_the_day if p.path.endswith(STORY)] == []


@pytest.mark.parametrize(
    ("experienced", "codes"),
    [("2024-01", []), ("2023-12", ["experience-too-old"]), ("2019-05", ["experience-too-old"])],
)
def test_experience_age_limit_from_the_instance(
    sample: Path, experienced: str, codes: list[str]
) -> None:
    # submitted 2026-01-05, 730 days allowed: 2024-01 ends 2024-01-31, 705 days before.
    story = sample / STORY
    story.write_text(
        story.read_text().replace("experienced: 2026-01", f"experienced: {experienced}")
    )
    assert [p.code for p in problems_of(sample)] == codes


@pytest.mark.parametrize(
    ("value", "code"),
    [("2026-02-30", "impossible-date"), ("2026-13-01", "impossible-date"), ("soon", "wrong-type")],
)
def test_impossible_date_is_told_apart_from_a_wrong_type(
    sample: Path, value: str, code: str
) -> None:
    story = sample / STORY
    story.write_text(story.read_text().replace("submitted: 2026-01-05", f"submitted: {value}"))
    assert [(p.line, p.code) for p in problems_of(sample)] == [(6, code)]


def test_word_limits_come_from_the_instance(sample: Path) -> None:
    instance = sample / "instance.yaml"
    instance.write_text(instance.read_text().replace("max_words: 1000", "max_words: 10"))
    found_codes = {(p.path.rsplit("/", 1)[-1], p.code) for p in problems_of(sample)}
    assert ("2026-01-05-aaaa01.yaml", "too-many-words") in found_codes
    assert {code for _, code in found_codes} == {"too-many-words"}


def test_near_duplicates_by_sketch() -> None:
    words = "the ward was clean and the staff were kind but the food was cold every day".split()
    changed = [*words[:-1], "night"]
    other = "a completely different story about a library and its opening hours".split()
    assert similarity(sketch(words), sketch(words)) == 1.0
    assert similarity(sketch(words), sketch(changed)) >= 0.7
    assert similarity(sketch(words), sketch(other)) == 0.0


def test_many_stories_are_compared_without_every_pair(sample: Path) -> None:
    # 300 distinct stories and one near copy: only the copy is reported.
    template = (sample / STORY).read_text()
    for n in range(300):
        text = " ".join(f"w{n}x{i}" for i in range(30))
        story_id = f"2026-01-05-{n:06d}"
        (sample / f"stories/2026/{story_id}.yaml").write_text(
            template.replace("2026-01-05-aaaa01", story_id)
            .replace("Got an appointment the same day and the nurse was kind.", text)
            .replace("  She explained everything twice without sighing.\n", "")
        )
    copy = " ".join(f"w7x{i}" for i in range(30)) + " again"
    (sample / "stories/2026/2026-01-06-copy01.yaml").write_text(
        template.replace("2026-01-05-aaaa01", "2026-01-06-copy01")
        .replace("Got an appointment the same day and the nurse was kind.", copy)
        .replace("  She explained everything twice without sighing.\n", "")
    )
    assert [(p.path.rsplit("/", 1)[-1], p.code) for p in problems_of(sample)] == [
        ("2026-01-06-copy01.yaml", "near-duplicate-story")
    ]


def test_normalised_words_ignore_case_and_punctuation() -> None:
    assert normalised_words("The nurse—kind, “calm”… WAS kind.") == [
        "the",
        "nurse",
        "kind",
        "calm",
        "was",
        "kind",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Use my code SAVE for a discount", ["Use my code"]),
        ("Visit our website for more", ["Visit our website"]),
        ("Crypto currency tips and FREE TRIAL", ["Crypto currency", "FREE TRIAL"]),
        ("they use code words on the ward and visit my nan", []),
    ],
)
def test_advertising_phrases(text: str, expected: list[str]) -> None:
    assert [f.text for f in spam_signals(text) if f.code == "spam-advertising"] == expected


def test_letters_that_lower_case_to_two_characters_keep_positions() -> None:
    text = "İİİİ nurse Anna and Dr Howard"
    assert [f.text for f in personal_data(text)] == ["nurse Anna", "Dr Howard"]
