"""Each row of a table as text, JSON or CSV, built column by column in Arrow.

Byte for byte what json.JSONEncoder(sort_keys=True, ensure_ascii=False) and pyarrow's CSV
writer give row by row, but whole-column work in Arrow's C++ (the GIL released), with no
Python object per cell. Rows are kept one after another in one buffer, so any run of them,
such as one provider's, is a slice of bytes rather than a join of strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# What json escapes in a string with ensure_ascii=False: the quote, the backslash, and the
# control characters, seven by name and the rest as \u00XX (lower-case hex, like json's).
JSON_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b"}
JSON_ESCAPES["\f"] = "\\f"
NAMED_ESCAPES = tuple(JSON_ESCAPES)
JSON_ESCAPES.update({chr(c): f"\\u{c:04x}" for c in range(0x20) if chr(c) not in JSON_ESCAPES})
ROW_END = b",\n"


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def _joined(*pieces: pa.ChunkedArray | str) -> pa.ChunkedArray:
    """The pieces (columns and constant text) joined row by row."""
    parts = [_text(p) if isinstance(p, str) else p for p in pieces]
    return pc.binary_join_element_wise(*parts, _text(""))


def _matches(column: pa.ChunkedArray, pattern: str) -> bool:
    """Whether any cell matches the RE2 pattern (a search many times quicker than match_substring's)."""
    return bool(pc.any(pc.match_substring_regex(column, pattern)).as_py())


def _present(column: pa.ChunkedArray, char: str) -> bool:
    return _matches(column, f"\\x{ord(char):02x}")


def json_strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text cells as JSON strings, quotes included; empty cells stay null."""
    if _matches(column, r'[\x00-\x1f"\\]'):
        escapes = dict(JSON_ESCAPES)
        if not _matches(column, r"[\x00-\x07\x0b\x0e-\x1f]"):
            escapes = {char: escapes[char] for char in NAMED_ESCAPES}
        # The backslash goes first, so the escapes added after it are not escaped again.
        for char, escape in escapes.items():
            if _present(column, char):
                column = pc.replace_substring(column, char, escape)
    return _joined('"', column, '"')


def json_cells(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Each cell as json encodes it: strings and dates quoted, numbers and booleans bare, null."""
    kind = column.type
    if pa.types.is_floating(kind):
        # Python's float repr (the shortest that reads back the same) is not Arrow's.
        encode = json.JSONEncoder().encode
        cells = [None if v is None else encode(v) for v in column.to_pylist()]
        column = pa.chunked_array([pa.array(cells, pa.large_string())])
    elif pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        column = pc.cast(column, pa.large_string())
    else:
        column = json_strings(pc.cast(column, pa.large_string()))
    return pc.fill_null(column, "null")


def csv_cells(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Each cell as pyarrow's CSV writer puts it (quoting "needed"): text quoted, empty cells empty."""
    text = pc.cast(column, pa.large_string())
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        if _present(text, '"'):
            text = pc.replace_substring(text, '"', '""')
        text = _joined('"', text, '"')
    return pc.fill_null(text, "")


@dataclass(frozen=True)
class Rows:
    """Rows of text, each ended by end, one after another in one buffer."""

    text: pa.LargeStringArray
    end: bytes

    @classmethod
    def of(cls, pieces: list[pa.ChunkedArray | str], end: bytes) -> Rows:
        return cls(_whole(_joined(*pieces, end.decode("utf-8"))), end)

    def __len__(self) -> int:
        return len(self.text)

    def take(self, order: pa.Array) -> Rows:
        return Rows(_whole(self.text.take(order)), self.end)

    def _offsets(self) -> np.ndarray:
        start = self.text.offset
        buffer = self.text.buffers()[1]
        assert buffer is not None
        return np.frombuffer(buffer, dtype=np.int64)[start : start + len(self.text) + 1]

    def span(self, first: int = 0, count: int | None = None) -> memoryview:
        """Rows first to first + count, each with its ending, as one piece of the buffer."""
        count = len(self.text) - first if count is None else count
        if count == 0:
            return memoryview(b"")
        offsets = self._offsets()
        data = self.text.buffers()[2]
        assert data is not None
        return memoryview(data)[int(offsets[first]) : int(offsets[first + count])]

    def spans(self, runs: list[tuple[int, int]]) -> list[memoryview]:
        """span(first, count) for each run, looking the offsets up once."""
        offsets = self._offsets()
        data = self.text.buffers()[2]
        whole = memoryview(data) if data is not None else memoryview(b"")
        where = np.array(runs, dtype=np.int64).reshape(-1, 2)
        starts = offsets[where[:, 0]].tolist()
        ends = offsets[where[:, 0] + where[:, 1]].tolist()
        return [whole[start:end] for start, end in zip(starts, ends, strict=True)]


def _whole(array: pa.Array | pa.ChunkedArray) -> pa.LargeStringArray:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], pa.large_string())
    assert isinstance(array, pa.LargeStringArray)
    return array


def json_rows(data: pa.Table) -> Rows:
    """Each row as one JSON object with sorted keys, as json's C encoder writes it, ending ",\\n"."""
    names = sorted(data.column_names)
    if data.num_rows == 0:
        return Rows(pa.array([], pa.large_string()), ROW_END)
    pieces: list[pa.ChunkedArray | str] = []
    for index, name in enumerate(names):
        key = json.dumps(name, ensure_ascii=False)
        pieces.append(("{" if index == 0 else ", ") + f"{key}: ")
        pieces.append(json_cells(data.column(name)))
    pieces.append("}")
    return Rows.of(pieces, ROW_END)


def csv_pieces(data: pa.Table) -> list[pa.ChunkedArray | str]:
    """Each row's cells as pyarrow's CSV writer writes them (quoting "needed"), commas between:
    the pieces of a row, to be joined (Rows.of)."""
    pieces: list[pa.ChunkedArray | str] = []
    for index, name in enumerate(data.column_names):
        if index:
            pieces.append(",")
        pieces.append(csv_cells(data.column(name)))
    return pieces


def csv_rows(data: pa.Table) -> Rows:
    """Each row as pyarrow's CSV writer writes it (quoting "needed"), ending in a line break."""
    if data.num_rows == 0:
        return Rows(pa.array([], pa.large_string()), b"\n")
    return Rows.of(csv_pieces(data), b"\n")


def csv_header(data: pa.Table | list[str]) -> bytes:
    """The header line of a CSV file with data's columns (or these names), as pyarrow writes it."""
    columns = data if isinstance(data, list) else data.column_names
    names = (name.replace('"', '""') for name in columns)
    return (",".join(f'"{name}"' for name in names) + "\n").encode("utf-8")
