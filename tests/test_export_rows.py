"""Rows as JSON and CSV text, column by column: byte for byte what json and pyarrow's CSV writer give."""

from __future__ import annotations

import datetime as dt
import io
import json

import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.export.formats import json_array
from pipelines.export.rows import csv_header, csv_rows, json_rows

CELL_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
TRICKY = ['say "hi"', "back\\slash", "line\nbreak\r\n", "tab\t\b\f", "nul\x00 \x01\x1f\x7f", ""]


def table(texts: list[str | None], numbers: list[int | None]) -> pa.Table:
    size = len(texts)
    return pa.table(
        {
            "zeta": pa.array(texts, pa.string()),
            "alpha": pa.array(numbers, pa.int64()),
            "when": pa.array([dt.date(2026, 1, 1 + i % 28) for i in range(size)], pa.date32()),
            "flag": pa.array([None if i % 3 == 0 else i % 2 == 0 for i in range(size)]),
            "where": pa.array([None if i % 2 else 51.5 + i / 7 for i in range(size)], pa.float64()),
            "month": pa.array(["2026-10"] * size, pa.string()),
        }
    )


def expected_json(data: pa.Table) -> list[str]:
    encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
    rows = data.to_pylist()
    for row in rows:
        row["when"] = row["when"].isoformat()
    return [encode(row) for row in rows]


def expected_csv(data: pa.Table) -> bytes:
    sink = io.BytesIO()
    pa_csv.write_csv(data, sink, pa_csv.WriteOptions(quoting_style="needed"))
    return sink.getvalue()


def as_text(data: pa.Table) -> tuple[list[str], bytes]:
    rows = json_rows(data)
    lines = [bytes(span[:-2]).decode() for span in rows.spans([(i, 1) for i in range(len(rows))])]
    return lines, csv_header(data) + bytes(csv_rows(data).span())


@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(
        st.tuples(st.none() | CELL_TEXT, st.none() | st.integers(-(2**63), 2**63 - 1)),
        max_size=12,
    )
)
def test_any_cells_encode_as_json_and_the_csv_writer_do(
    cells: list[tuple[str | None, int | None]],
) -> None:
    data = table([text for text, _ in cells], [number for _, number in cells])
    lines, csv_text = as_text(data)
    assert lines == expected_json(data)
    assert csv_text == expected_csv(data)


def test_every_escape_json_knows() -> None:
    data = table([*TRICKY, None], list(range(len(TRICKY) + 1)))
    lines, csv_text = as_text(data)
    assert lines == expected_json(data)
    assert csv_text == expected_csv(data)
    assert '"zeta": "nul\\u0000 \\u0001\\u001f\x7f"' in lines[4]


@pytest.mark.parametrize("rows", [0, 1, 3])
def test_json_arrays_have_one_row_a_line(rows: int) -> None:
    data = table(["a"] * rows, [1] * rows)
    text = b"".join(json_array(json_rows(data))).decode()
    lines = expected_json(data)
    assert text == ("[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n")
    assert json.loads(text) == [json.loads(line) for line in lines]


def test_a_run_of_rows_is_a_slice_of_one_buffer() -> None:
    data = table(["a", "b", "c", "d"], [1, 2, 3, 4])
    rows = json_rows(data).take(pa.array([3, 1, 2, 0]))
    first, middle = rows.spans([(0, 1), (1, 2)])
    assert bytes(first) == (expected_json(data)[3] + ",\n").encode()
    assert bytes(middle).decode() == ",\n".join(expected_json(data)[1:3]) + ",\n"
    assert rows.spans([(2, 0)]) == [memoryview(b"")]
