"""The parts of the rules that look at one record alone, run where its file is read.

Passed to load_dataset as derive, file_values runs in the workers that read and parse the
record files (on every core for a large commons), so the texts never travel between
processes again: for each row it gives the personal-data and spam findings of its free-text
fields and, for a story, the fingerprint the duplicate check compares. The rules use these
values when the Dataset has them and work them out themselves when it does not; either way
the report is the same.
"""

from __future__ import annotations

from pipelines.load import Dataset, Row
from pipelines.package import Table
from pipelines.validate.text import Finding

# A Finding as plain values: code, start, end, text, what.
PlainFinding = tuple[str, int, int, str, str]
# One row's values: its findings by free-text field (only fields with any), and its story
# text's fingerprint (digest, sketch) and word count when it is a story with text.
FileValues = tuple[dict[str, list[PlainFinding]], tuple[bytes, tuple[int, ...]] | None, int | None]


def file_values(table: Table, rows: list[Row]) -> list[FileValues | None]:
    """Each row's FileValues; None for every row of a table no rule reads this way."""
    # Imported here: the rules of these modules read the values through this one.
    from pipelines.validate.policy import fingerprint
    from pipelines.validate.privacy import TEXT_TABLES, free_text_fields, text_findings
    from pipelines.validate.text import word_count

    if table.name not in TEXT_TABLES:
        return [None] * len(rows)
    fields = free_text_fields(table)
    stories = table.name == "stories"
    out: list[FileValues | None] = []
    for row in rows:
        findings: dict[str, list[PlainFinding]] = {}
        for name in fields:
            value = row.get(name)
            if value:
                found = text_findings(value)
                if found:
                    findings[name] = [(f.code, f.start, f.end, f.text, f.what) for f in found]
        text = row.get("story") if stories else None
        out.append(
            (findings, fingerprint(text), word_count(text)) if text else (findings, None, None)
        )
    return out


def derived_values(dataset: Dataset, table: str) -> list[FileValues] | None:
    """file_values for every row of a table, when load_dataset computed them all; else None."""
    values = dataset.derived.get(table)
    if values is None or len(values) != len(dataset.tables[table].rows) or None in values:
        return None
    return values


def findings_of(values: FileValues, field_name: str) -> list[Finding]:
    """The findings in one field of a row, as text_findings gives them."""
    return [Finding(*found) for found in values[0].get(field_name, ())]


def fingerprint_of(values: FileValues) -> tuple[bytes, tuple[int, ...]] | None:
    return values[1]


def word_count_of(values: FileValues) -> int | None:
    return values[2]
