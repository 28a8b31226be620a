"""The SQLite writer inserts rows in batches: every row, in order, whatever the count."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.export.sqlite import ROWS_PER_INSERT, _insert_rows
from pipelines.export.tables import Provenance, PublishedTable, build_tables
from pipelines.package import read_source_package
from tests.conftest import make_instance


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


def test_the_database_has_large_pages(tmp_path: Path) -> None:
    from pipelines.export.sqlite import PAGE_SIZE, write_sqlite
    from tests.test_export import commons_of

    data = make_instance(tmp_path / "data")
    commons = commons_of(data)
    package = read_source_package(data)
    tables = build_tables(commons, package, Provenance({}, "1", "data"))
    write_sqlite(tables, tmp_path / "commons.db")
    db = sqlite3.connect(tmp_path / "commons.db")
    assert db.execute("PRAGMA page_size").fetchone() == (PAGE_SIZE,)
    assert db.execute("SELECT count(*) FROM stories_fts WHERE stories_fts MATCH 'kind'").fetchone()
