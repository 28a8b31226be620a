"""The SQLite writer inserts rows in batches: every row, in order, whatever the count."""

from __future__ import annotations

import sqlite3

import pyarrow as pa
import pytest

from pipelines.export.sqlite import ROWS_PER_INSERT, _insert_rows
from pipelines.export.tables import PublishedTable


def table_of(rows: int) -> PublishedTable:
    fields = [{"name": "id", "type": "string"}, {"name": "n", "type": "integer"}]
    data = pa.table(
        {
            "id": pa.array([f"r{i:05d}" for i in range(rows)], pa.string()),
            "n": pa.array([i if i % 7 else None for i in range(rows)], pa.int64()),
        }
    )
    return PublishedTable("t", "T", "", {"fields": fields}, "stories", data)


@pytest.mark.parametrize(
    "rows", [0, 1, ROWS_PER_INSERT - 1, ROWS_PER_INSERT, 3 * ROWS_PER_INSERT + 17]
)
def test_every_row_is_inserted_in_order(rows: int) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id TEXT, n INTEGER)")
    _insert_rows(db, table_of(rows))
    found = db.execute("SELECT rowid, id, n FROM t ORDER BY rowid").fetchall()
    assert found == [(i + 1, f"r{i:05d}", i if i % 7 else None) for i in range(rows)]
