"""Every problem code: its title, why it matters and how to fix it.

A code is public and stable: never reused, never silently renamed. docs/problems.md is
generated from this catalogue and a test fails when it is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Code:
    code: str
    title: str
    explanation: str
    fix: str
    severity: Literal["error", "warning"] = "error"
    group: str = "Structure"


CODES: dict[str, Code] = {}


def register(code: Code) -> Code:
    if code.code in CODES:
        raise ValueError(f"problem code {code.code} is registered twice")
    CODES[code.code] = code
    return code


def code(name: str) -> Code:
    return CODES[name]


_READING = [
    (
        "yaml-syntax",
        "The file is not valid YAML",
        "The YAML parser stopped at this line and column, so nothing in the file could be checked.",
        "Look at the line shown and the one before it: a missing colon, an unclosed quote or bracket, or a line indented differently from its neighbours.",
    ),
    (
        "duplicate-key",
        "A key appears twice",
        "YAML would silently keep only one of the two values, so one of them would be lost.",
        "Keep one of the two lines with this key and delete the other.",
    ),
    (
        "yaml-anchor",
        "YAML anchors or aliases are used",
        "Anchors (&name) and aliases (*name) make one value stand for another; story files must say everything plainly.",
        "Write the value out in full where the alias is, and remove the & and * marks.",
    ),
    (
        "yaml-custom-tag",
        "A YAML tag is used",
        "Tags such as !!python/object ask a program to build special objects; story files hold plain text only.",
        "Remove the word starting with ! before the value.",
    ),
    (
        "nesting-too-deep",
        "Values are nested too deeply",
        "No field of the schema nests this deeply; such files are often made to crash parsers.",
        "Write the file in the shape of the example in the contributing guide.",
    ),
    (
        "not-utf8",
        "The file is not UTF-8 text",
        "Every file must be saved as UTF-8 so every character reads the same everywhere.",
        "Save the file again choosing the UTF-8 encoding, then check accented letters and symbols.",
    ),
    (
        "byte-order-mark",
        "The file starts with a byte order mark",
        "Some editors add an invisible mark at the start of the file; other tools then misread the first key.",
        "Save the file as UTF-8 without BOM (sometimes called plain UTF-8).",
    ),
    (
        "nul-byte",
        "The file contains a NUL byte",
        "A NUL byte means the file is binary or damaged, not text.",
        "Make the file again from the template in a plain-text editor.",
    ),
    (
        "file-too-large",
        "The file is too large",
        "Each story or response is one small text file; a larger file is not one story.",
        "Shorten the text, or split several stories into one file each.",
    ),
    (
        "not-a-mapping",
        "The file is not a set of fields",
        "A record file is a list of field: value lines.",
        "Start again from the template in the contributing guide, one field per line.",
    ),
    (
        "wrong-shape",
        "A value has the wrong shape",
        "The field expects one value, a list, or a set of keys, as its description says.",
        "Write the value in the shape shown in the template.",
    ),
    (
        "unknown-field",
        "A field the schema does not know",
        "Only the fields in the schema are published; anything else would be silently lost.",
        "Correct the field's name, or remove the line.",
    ),
    (
        "missing-column",
        "A column is missing from the table",
        "Every column of the schema must be in the header row, even when its cells are empty.",
        "Add the column to the header row, and an empty cell to every row.",
    ),
    (
        "wrong-cell-count",
        "A row has the wrong number of cells",
        "Every row must have one cell for each column of the header row.",
        "Add or remove commas so the row has one cell per column; quote cells that contain commas.",
    ),
    (
        "csv-syntax",
        "The CSV file cannot be read",
        "The CSV reader stopped here, often at an unclosed quote.",
        "Close the quote, or double any quote inside a quoted cell.",
    ),
    (
        "missing-file",
        "A required file is missing",
        "The data package names this file, and it is not there.",
        "Add the file, or restore it from the repository's history.",
    ),
    (
        "wrong-file-type",
        "A file that is not a .yaml file",
        "Only .yaml files in this folder are read; others are ignored, so their content would be lost.",
        "Rename the file to end in .yaml, or move it out of the data folder.",
    ),
]

_SCHEMA = [
    (
        "missing-value",
        "A required value is missing",
        "The schema requires this field.",
        "Add the field with a value.",
    ),
    (
        "wrong-type",
        "A value of the wrong type",
        "The schema gives the field a type (a date, a whole number, true or false) and the value is not of it.",
        "Write the value as the expected type shows.",
    ),
    (
        "not-allowed-value",
        "A value not in the list of allowed values",
        "The schema lists the values this field may take.",
        "Use one of the allowed values.",
    ),
    (
        "too-short",
        "A value is too short",
        "The schema sets a shortest length for this field.",
        "Write a longer value.",
    ),
    (
        "too-long",
        "A value is too long",
        "The schema sets a longest length for this field.",
        "Shorten the value.",
    ),
    (
        "out-of-range",
        "A number out of range",
        "The schema sets the smallest and largest value for this field.",
        "Use a number within the range.",
    ),
    (
        "wrong-format",
        "A value in the wrong format",
        "The field has a fixed format, given in its description.",
        "Write the value in the format described.",
    ),
    (
        "rating-out-of-range",
        "A rating out of range",
        "Ratings are whole numbers from 1 to 5.",
        "Change the rating to a number from 1 to 5.",
    ),
    (
        "rating-not-whole-number",
        "A rating that is not a whole number",
        "Ratings are whole numbers from 1 to 5, without halves or words.",
        "Change the rating to a whole number from 1 to 5.",
    ),
]

_REFERENCES = [
    (
        "unknown-provider",
        "Unknown provider",
        "The provider id must be one of the ids in providers.csv.",
        "Use the provider's id from the providers list; ask a maintainer to add a provider that is missing.",
    ),
    (
        "unknown-story",
        "Unknown story",
        "The story id must be the id of an existing story file.",
        "Copy the story's id from its page or file name.",
    ),
    (
        "unknown-response",
        "Unknown response",
        "The response id must be the id of an existing response file.",
        "Copy the response's id from the story page or the response file name.",
    ),
    (
        "unknown-tag",
        "Unknown tag",
        "Tags come from the instance's vocabulary in vocabularies/tags.csv.",
        "Use a tag from the vocabulary.",
    ),
    (
        "unknown-dimension",
        "Unknown rating dimension",
        "Rating dimensions are defined per instance in vocabularies/dimensions.csv.",
        "Use a dimension from the list, or remove the rating.",
    ),
    (
        "unknown-area",
        "Unknown area",
        "Areas are listed in vocabularies/areas.csv.",
        "Use an area id from the list, or add the area there.",
    ),
    (
        "unknown-provider-kind",
        "Unknown provider kind",
        "Provider kinds are listed in vocabularies/provider-kinds.csv.",
        "Use a kind id from the list, or add the kind there.",
    ),
    (
        "unknown-responder",
        "Responder not allowed for this provider",
        "Only the GitHub logins listed in responders.csv for a provider may respond for it.",
        "Ask a maintainer to add your login for this provider in responders.csv.",
    ),
    (
        "duplicate-id",
        "The same id is used twice",
        "Every record needs its own id; permalinks are made from ids.",
        "Give one of the two records a new id (and rename its file to match).",
    ),
    (
        "id-mismatch",
        "The id does not match the file name",
        "The file is named after its id, so that the id is unique and easy to find.",
        "Make the id and the file name (without .yaml) the same.",
    ),
    (
        "wrong-folder",
        "The file is in the wrong folder",
        "Record files live in a folder named after the year of their id.",
        "Move the file into the folder named after the year its id starts with.",
    ),
]

_CONTENT = [
    (
        "missing-overall-rating",
        "Ratings without an overall rating",
        "Whenever a story rates anything, it must also give an overall rating.",
        "Add an overall rating from 1 to 5 under ratings.",
    ),
    (
        "missing-story-text",
        "A published story without its text",
        "A published story needs its text.",
        "Add the story text, or set status to withdrawn with a moderation-log entry.",
    ),
    (
        "withdrawn-with-text",
        "A withdrawn story still holds its text",
        "When a story is withdrawn its text is removed from the file, so that it is no longer published anywhere.",
        "Remove the story text from the file (git keeps the history).",
    ),
    (
        "withdrawn-without-log",
        "A withdrawal without a moderation-log entry",
        "Nothing is silently removed: every withdrawal is recorded in moderation.csv with a reason.",
        "Add a row to moderation.csv with the action withdrawn and a reason code.",
    ),
    (
        "licence-mismatch",
        "A licence other than the instance's",
        "Every story is given under the instance's licence.",
        "Set licence to the instance's licence.",
    ),
    (
        "response-provider-mismatch",
        "A response from another provider",
        "A response must come from the provider the story is about.",
        "Set provider to the story's provider.",
    ),
    (
        "response-before-story",
        "A response dated before its story",
        "A response cannot come before the story it answers.",
        "Correct the response's date.",
    ),
    (
        "experience-after-submission",
        "An experience dated after its submission",
        "The experience must have happened by the month the story was submitted.",
        "Correct the month under experienced, or the submitted date.",
    ),
    (
        "confirms-without-change",
        "Confirms a response that records no change",
        "A story can only confirm a change that a response recorded.",
        "Use the id of a response that records a change, or remove confirms.",
    ),
]

_DATES = [
    (
        "impossible-date",
        "A date that does not exist",
        "The value is written like a date, but no calendar has that day or month (30 February, month 13).",
        "Check the day and month: write a date that exists, as 2026-02-28.",
    ),
    (
        "date-in-future",
        "A date in the future",
        "Stories, responses and log entries are about what has already happened.",
        "Correct the date: it cannot be later than today.",
    ),
    (
        "experience-too-old",
        "An experience older than this instance accepts",
        "Each instance sets how long before its submission an experience may have happened (max_experience_age_days in instance.yaml), so that stories describe services as they are now.",
        "Check the month under experienced; if it is right, the story is too old for this commons.",
    ),
]

_PERSONAL = [
    (
        "email-address",
        "An e-mail address in the text",
        "Published text must not let anyone contact or identify a person; an e-mail address does both.",
        'Remove the e-mail address, or describe it in words ("the ward\'s e-mail address").',
    ),
    (
        "phone-number",
        "A phone number in the text",
        "A phone number can identify a person. A provider's public switchboard number can be accepted by a moderator in accepted-findings.csv.",
        'Remove the number, or describe it in words ("the ward\'s phone number").',
    ),
    (
        "nhs-number",
        "An NHS number in the text",
        "A ten-digit number that passes the NHS number check, written near words such as NHS, number or patient, identifies one patient.",
        "Remove the number; nobody reading the story needs it.",
    ),
    (
        "national-insurance-number",
        "A National Insurance number in the text",
        "A National Insurance number identifies one person.",
        "Remove the number; nobody reading the story needs it.",
    ),
    (
        "postcode",
        "A postcode in the text",
        "A full postcode can point to a handful of homes. A provider's own address can be accepted by a moderator in accepted-findings.csv.",
        'Remove the postcode, or give only the area ("in Kettlebridge").',
    ),
    (
        "titled-name",
        "A name after a title or role",
        "Words such as Dr Howard, Nurse Anna or Mrs Patel usually name a member of staff or a patient; a moderator checks each one before publication.",
        'Write the role instead of the name ("the doctor", "a nurse").',
    ),
]

_QUALITY = [
    (
        "too-few-words",
        "The story is too short",
        "Each instance sets the fewest words a story may have (min_words in instance.yaml), so that a story tells readers something.",
        "Add more about what happened and how it felt.",
    ),
    (
        "too-many-words",
        "The story is too long",
        "Each instance sets the most words a story may have (max_words in instance.yaml), so that stories stay readable.",
        "Shorten the story, or tell separate experiences as separate stories.",
    ),
    (
        "duplicate-story",
        "The same story twice",
        "The text is the same as another story's (ignoring case, spacing and punctuation); a story is counted once.",
        "Remove this file if the story is already in the commons.",
    ),
    (
        "near-duplicate-story",
        "A story almost the same as another",
        "Most of the text is shared with another story; a moderator checks whether it was submitted twice.",
        "Remove this file if it repeats a story already submitted; otherwise nothing needs to change.",
    ),
    (
        "spam-link",
        "A web link in the text",
        "Links are a common sign of spam; a moderator checks each one.",
        "Remove the link, or name the website in words.",
    ),
    (
        "spam-repeated-text",
        "Text repeated over and over",
        "The same words or sentence many times over are a common sign of spam or a copy-and-paste slip.",
        "Remove the repeated text.",
    ),
    (
        "spam-advertising",
        "Text that reads like advertising",
        'Phrases such as "buy now" or "promo code" are a common sign of spam; a moderator checks them.',
        "Remove the advertising; tell your own experience of the service.",
    ),
    (
        "formula-prefix",
        "A short field starts with a spreadsheet formula sign",
        "A title, pseudonym or service starting with = + - @ (or a tab) would run as a formula when a researcher opens the data in a spreadsheet.",
        "Start the value with a letter or digit.",
    ),
    (
        "unused-accepted-finding",
        "An accepted finding that matches nothing",
        "Each row of accepted-findings.csv accepts one finding in one field; a row that no longer matches anything should be removed so that the record stays honest.",
        "Remove the row from accepted-findings.csv, or correct its record, field, code or text.",
    ),
]

_CHANGES = [
    (
        "story-changed-without-log",
        "An existing story changed without a moderation-log entry",
        "A pull request may add stories; changing one already published needs a row in moderation.csv in the same pull request, so that nothing changes silently.",
        "Add a row to moderation.csv for this story (edited or redacted, with a reason code), or undo the change.",
    ),
    (
        "story-deleted-without-log",
        "A story deleted without a moderation-log entry",
        "Stories are never deleted silently: a withdrawn story keeps its file, with status withdrawn, and a row in moderation.csv.",
        "Restore the file; to withdraw the story set status: withdrawn, remove its text and add a row to moderation.csv.",
    ),
    (
        "response-author-not-responder",
        "A response from someone not listed for the provider",
        "Only the GitHub logins in responders.csv for a provider may add or change its responses; the login is the pull request's author, not a value in the file.",
        "Open the pull request from a login listed for this provider, or ask a maintainer to add yours to responders.csv.",
    ),
    (
        "moderation-log-rewritten",
        "The moderation log was changed, not appended to",
        "moderation.csv is append-only: rows already in it are never changed, removed or reordered.",
        "Restore the existing rows exactly and add new rows at the end.",
    ),
]

_WARNINGS = {
    "titled-name",
    "near-duplicate-story",
    "spam-link",
    "spam-repeated-text",
    "spam-advertising",
    "unused-accepted-finding",
}

for _group, _rows in (
    ("Reading files", _READING),
    ("Schema", _SCHEMA),
    ("References", _REFERENCES),
    ("Content", _CONTENT),
    ("Dates", _DATES),
    ("Personal data", _PERSONAL),
    ("Quality and policy", _QUALITY),
    ("Changes (--since)", _CHANGES),
):
    for _name, _title, _why, _fix in _rows:
        register(
            Code(
                _name,
                _title,
                _why,
                _fix,
                "warning" if _name in _WARNINGS else "error",
                group=_group,
            )
        )

# Personal-data codes; a moderator may accept one finding of these (accepted-findings.csv).
PERSONAL_DATA = tuple(name for name, *_ in _PERSONAL)

# The code for a reference that does not resolve, by the table it points at.
UNKNOWN_REFERENCE = {
    "providers": "unknown-provider",
    "stories": "unknown-story",
    "responses": "unknown-response",
    "tags": "unknown-tag",
    "dimensions": "unknown-dimension",
    "areas": "unknown-area",
    "provider-kinds": "unknown-provider-kind",
    "responders": "unknown-responder",
}

# Codes that name a field's problem more precisely than the generic schema codes.
FIELD_CODES = {
    ("ratings", "score", "type"): "rating-not-whole-number",
    ("ratings", "score", "range"): "rating-out-of-range",
}
