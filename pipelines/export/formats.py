"""Write the published tables as CSV, JSON, Parquet and SQLite, per provider, and as one zip.

Each writer is whole-column work in pyarrow or one executemany per table in SQLite, so
the export stays linear; every writer is byte-for-byte deterministic.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import sqlite3
import struct
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from pipelines.export.tables import PublishedTable, is_free_text
from pipelines.records import Commons

# OWASP's CSV injection guidance: a cell starting with one of these is run as a formula by
# spreadsheets, so it gets a leading single quote. JSON, Parquet and SQLite keep the text.
FORMULA_START = r"^[=+\-@\t\r]"
CSV_OPTIONS = pa_csv.WriteOptions(include_header=True, quoting_style="needed")
SQL_TYPES = {
    "string": "TEXT",
    "integer": "INTEGER",
    "number": "REAL",
    "boolean": "INTEGER",
    "date": "TEXT",
    "yearmonth": "TEXT",
}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def spreadsheet_safe(table: PublishedTable) -> pa.Table:
    """The table with every free-text cell that a spreadsheet would run as a formula quoted."""
    data = table.data
    for field in table.fields:
        if not is_free_text(field):
            continue
        column = data.column(field["name"])
        risky = pc.match_substring_regex(column, FORMULA_START)
        quoted = pc.binary_join_element_wise("'", column, "")
        index = data.schema.get_field_index(field["name"])
        data = data.set_column(index, field["name"], pc.if_else(risky, quoted, column))
    return data


def csv_bytes(data: pa.Table) -> bytes:
    sink = io.BytesIO()
    pa_csv.write_csv(data, sink, CSV_OPTIONS)
    return sink.getvalue()


def write_csv(table: PublishedTable, path: Path) -> None:
    path.write_bytes(csv_bytes(spreadsheet_safe(table)))


def plain(data: pa.Table) -> pa.Table:
    """Dates as ISO text, the way JSON and SQLite carry them."""
    for index, field in enumerate(data.schema):
        if pa.types.is_date(field.type):
            data = data.set_column(index, field.name, pc.cast(data.column(index), pa.string()))
    return data


def rows_of(data: pa.Table) -> list[dict[str, Any]]:
    data = plain(data)
    names = data.column_names
    columns = [data.column(i).to_pylist() for i in range(data.num_columns)]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def encode_rows(data: pa.Table) -> list[str]:
    """Each row as one line of JSON with sorted keys (the C encoder: json's indent is pure Python)."""
    encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
    return [encode(row) for row in rows_of(data)]


def json_array(lines: list[str]) -> str:
    """A JSON array with one row a line: readable, diffable and quick to write."""
    return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"


def write_json(lines: list[str], path: Path) -> None:
    path.write_text(json_array(lines), encoding="utf-8")


def write_parquet(table: PublishedTable, path: Path) -> None:
    # Parquet's footer holds the writer's version and the schema, never a time; statistics and
    # page index are pure functions of the data, so the same table gives the same bytes.
    pq.write_table(
        table.data,
        path,
        compression="zstd",
        compression_level=3,
        version="2.6",
        use_dictionary=True,
        write_statistics=True,
        store_schema=True,
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _create_table(table: PublishedTable, names: dict[str, str]) -> str:
    columns = [f"{_quote(f['name'])} {SQL_TYPES[f['type']]}" for f in table.fields]
    schema = table.schema
    if schema.get("primaryKey"):
        columns.append(f"PRIMARY KEY ({', '.join(_quote(c) for c in schema['primaryKey'])})")
    for fk in schema.get("foreignKeys", []):
        ref = fk["reference"]
        columns.append(
            f"FOREIGN KEY ({', '.join(_quote(c) for c in fk['fields'])}) "
            f"REFERENCES {_quote(names[ref['resource']])} ({', '.join(_quote(c) for c in ref['fields'])})"
        )
    return f"CREATE TABLE {_quote(table.sql_name)} (\n  " + ",\n  ".join(columns) + "\n)"


# The joins researchers ask for first. Column names are the published ones.
VIEWS = {
    "published_stories": """
        SELECT s.id, s.provider, p.name AS provider_name, p.kind AS provider_kind,
               p.area AS provider_area, s.service, s.title, s.experienced, s.submitted,
               s.author_role, r.score AS overall, s.story
        FROM stories s
        JOIN providers p ON p.id = s.provider
        LEFT JOIN ratings r ON r.story = s.id AND r.dimension = 'overall'
        WHERE s.status = 'published'""",
    "story_ratings": """
        SELECT r.story, s.provider, p.name AS provider_name, p.kind AS provider_kind,
               p.area AS provider_area, s.submitted, r.dimension, d.name AS dimension_name,
               r.score
        FROM ratings r
        JOIN stories s ON s.id = r.story
        JOIN providers p ON p.id = s.provider
        JOIN dimensions d ON d.id = r.dimension""",
    "responses_to_stories": """
        SELECT x.id, x.story, s.title AS story_title, s.status AS story_status,
               s.submitted AS story_submitted, x.provider, p.name AS provider_name, x.date,
               julianday(x.date) - julianday(s.submitted) AS days_to_respond, x.text,
               x.change_status, x.change_summary
        FROM responses x
        JOIN stories s ON s.id = x.story
        JOIN providers p ON p.id = x.provider""",
    "provider_summary": """
        SELECT p.id, p.name, p.kind, p.area,
               (SELECT count(*) FROM stories s
                WHERE s.provider = p.id AND s.status = 'published') AS published_stories,
               (SELECT count(*) FROM ratings r JOIN stories s ON s.id = r.story
                WHERE s.provider = p.id AND r.dimension = 'overall') AS overall_ratings,
               (SELECT round(avg(r.score), 2) FROM ratings r JOIN stories s ON s.id = r.story
                WHERE s.provider = p.id AND r.dimension = 'overall') AS mean_overall,
               (SELECT count(*) FROM responses x WHERE x.provider = p.id) AS responses
        FROM providers p""",
}
INDEXES = {
    "stories": ["provider"],
    "ratings": ["dimension"],
    "story_tags": ["tag"],
    "responses": ["story"],
    "moderation": ["story"],
}
FTS_TABLE = "stories_fts"
FTS_COLUMNS = ("title", "story")


def write_sqlite(tables: list[PublishedTable], path: Path) -> None:
    """One database: a table per published table, keys, indexes, views and FTS5 on story text."""
    names = {t.name: t.sql_name for t in tables}
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("BEGIN")
        for table in tables:
            db.execute(_create_table(table, names))
            data = plain(table.data)
            columns = [data.column(i).to_pylist() for i in range(data.num_columns)]
            marks = ", ".join("?" * data.num_columns)
            db.executemany(
                f"INSERT INTO {_quote(table.sql_name)} VALUES ({marks})", zip(*columns, strict=True)
            )
        for table_name, columns in INDEXES.items():
            for column in columns:
                db.execute(
                    f"CREATE INDEX {_quote(f'{table_name}_{column}')} "
                    f"ON {_quote(table_name)} ({_quote(column)})"
                )
        for view, select in VIEWS.items():
            db.execute(f"CREATE VIEW {_quote(view)} AS {select.strip()}")
        # External-content FTS5 in the form sqlite-utils writes, which Datasette detects.
        db.execute(
            f"CREATE VIRTUAL TABLE [{FTS_TABLE}] USING FTS5 "
            f"({', '.join(f'[{c}]' for c in FTS_COLUMNS)}, content=[stories])"
        )
        db.execute(f"INSERT INTO [{FTS_TABLE}] ([{FTS_TABLE}]) VALUES ('rebuild')")
        db.execute("COMMIT")
    finally:
        db.close()


def _provider_slices(keys: list[str]) -> dict[str, tuple[int, int]]:
    """Start and length of each provider's run of rows in a table sorted by provider."""
    slices: dict[str, tuple[int, int]] = {}
    start = 0
    for index in range(1, len(keys) + 1):
        if index == len(keys) or keys[index] != keys[start]:
            slices[keys[start]] = (start, index - start)
            start = index
    return slices


def _provider_order(providers: list[str]) -> tuple[list[int], dict[str, tuple[int, int]]]:
    """Row order grouping rows by provider (stable: each provider's rows keep their order)."""
    order = pc.sort_indices(pa.array(providers, pa.string())).to_pylist()
    return order, _provider_slices([providers[i] for i in order])


def json_object(items: dict[str, str]) -> str:
    """A JSON object from already-encoded values, keys sorted."""
    parts = [f"{json.dumps(key)}: {items[key]}" for key in sorted(items)]
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_provider_files(
    tables: dict[str, PublishedTable], lines: dict[str, list[str]], commons: Commons, folder: Path
) -> list[Path]:
    """providers/<id>.csv (the provider's stories, one column per rating) and .json (all its rows).

    lines holds each table's rows encoded as JSON, so no row is encoded twice.
    """
    folder.mkdir(parents=True, exist_ok=True)
    story_provider = {s.id: s.provider for s in commons.stories}
    grouped: dict[str, tuple[list[str], dict[str, tuple[int, int]]]] = {}
    for name, table in tables.items():
        names = table.data.column_names
        if "provider" in names and name != "providers":
            keys = table.data.column("provider").to_pylist()
        elif "story" in names:
            keys = [story_provider[s] for s in table.data.column("story").to_pylist()]
        else:
            continue
        order, slices = _provider_order(keys)
        grouped[name] = ([lines[name][i] for i in order], slices)

    wide = spreadsheet_safe(tables["stories"])
    ratings = {s.id: s.ratings for s in commons.stories}
    ids = wide.column("id").to_pylist()
    for dimension in (d.id for d in commons.dimensions):
        wide = wide.append_column(
            f"rating_{dimension}",
            pa.array([ratings[i].get(dimension) for i in ids], pa.int64()),
        )
    order, wide_slices = _provider_order(wide.column("provider").to_pylist())
    wide = wide.take(pa.array(order, pa.int64()))
    provider_ids = tables["providers"].data.column("id").to_pylist()
    written = []
    for pid, provider_line in zip(provider_ids, lines["providers"], strict=True):
        start, length = wide_slices.get(pid, (0, 0))
        csv_path = folder / f"{pid}.csv"
        csv_path.write_bytes(csv_bytes(wide.slice(start, length)))
        extract = {"provider": provider_line}
        for name, (rows, slices) in grouped.items():
            first, count = slices.get(pid, (0, 0))
            extract[name] = json_array(rows[first : first + count]).rstrip("\n")
        json_path = folder / f"{pid}.json"
        json_path.write_text(json_object(extract), encoding="utf-8")
        written += [csv_path, json_path]
    return written


ZIP_LEVEL = 1  # zlib's fastest level: a third larger than level 9, many times quicker
ZIP_CHUNK = 1 << 22
ZIP_LIMIT = 0xFFFFFFFF  # past this, sizes and offsets need Zip64: left to the zipfile module


def _dos_time(date: tuple[int, ...]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date[:6]
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _deflate(chunk: bytes, last: bool) -> bytes:
    # Independent raw-deflate pieces joined make one valid stream when every piece but the
    # last ends on a byte boundary without the final-block bit: a sync flush does exactly that.
    compressor = zlib.compressobj(ZIP_LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(chunk) + compressor.flush(
        zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH
    )


def _pieces(path: Path, pool: ThreadPoolExecutor) -> Iterator[tuple[bytes, Future[bytes]]]:
    """Each chunk of the file and its compressed piece, compressed a few chunks ahead in threads."""
    pending: deque[tuple[bytes, Future[bytes]]] = deque()
    with path.open("rb") as source:
        chunk = source.read(ZIP_CHUNK)
        while True:
            following = source.read(ZIP_CHUNK) if chunk else b""
            last = not following
            pending.append((chunk, pool.submit(_deflate, chunk, last)))
            if len(pending) > 2 * (os.cpu_count() or 1):
                yield pending.popleft()
            if last:
                break
            chunk = following
    yield from pending


def _header(
    name: bytes, method: int, when: tuple[int, int], crc: int, sizes: tuple[int, int]
) -> bytes:
    return (
        struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0x800, method, *when, crc, *sizes, len(name), 0)
        + name
    )


def write_zip(folder: Path, members: Iterable[str], path: Path, date: tuple[int, ...]) -> None:
    """A zip of the members (paths relative to folder), fixed in time, order and compression.

    Deflate runs on every core, chunk by chunk; the zip is written as a plain (not Zip64)
    archive, or by the zipfile module when it would pass 4 GiB.
    """
    names = sorted(members)
    sums = "".join(f"{sha256_of(folder / n)}  {n}\n" for n in names).encode("utf-8")
    (folder / ".SHA256SUMS.zip").write_bytes(sums)
    entries = [(n, folder / n) for n in names] + [("SHA256SUMS", folder / ".SHA256SUMS.zip")]
    try:
        if sum(source.stat().st_size for _, source in entries) >= ZIP_LIMIT:
            _write_zip64(entries, path, date)
            return
        when = _dos_time(date)
        central = []
        with path.open("wb") as out, ThreadPoolExecutor() as pool:
            for name, source in entries:
                encoded = name.encode("utf-8")
                stored = name.endswith((".parquet", ".zip"))
                method = 0 if stored else 8
                offset = out.tell()
                out.write(_header(encoded, method, when, 0, (0, 0)))
                crc = size = written = 0
                if stored:
                    with source.open("rb") as stream:
                        for block in iter(functools.partial(stream.read, ZIP_CHUNK), b""):
                            crc, size = zlib.crc32(block, crc), size + len(block)
                            written += out.write(block)
                else:
                    for chunk, piece in _pieces(source, pool):
                        crc, size = zlib.crc32(chunk, crc), size + len(chunk)
                        written += out.write(piece.result())
                end = out.tell()
                out.seek(offset)
                out.write(_header(encoded, method, when, crc, (written, size)))
                out.seek(end)
                central.append(
                    struct.pack(
                        "<4s6H3L5H2L",
                        b"PK\x01\x02",
                        (3 << 8) | 20,
                        20,
                        0x800,
                        method,
                        *when,
                        crc,
                        written,
                        size,
                        len(encoded),
                        0,
                        0,
                        0,
                        0,
                        0o100644 << 16,
                        offset,
                    )
                    + encoded
                )
            start = out.tell()
            directory = b"".join(central)
            out.write(directory)
            out.write(
                struct.pack(
                    "<4s4H2LH",
                    b"PK\x05\x06",
                    0,
                    0,
                    len(central),
                    len(central),
                    len(directory),
                    start,
                    0,
                )
            )
    finally:
        (folder / ".SHA256SUMS.zip").unlink()


def _write_zip64(entries: list[tuple[str, Path]], path: Path, date: tuple[int, ...]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, source in entries:
            info = zipfile.ZipInfo(name, date_time=date[:6])  # type: ignore[arg-type]
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            stored = name.endswith((".parquet", ".zip"))
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member, source.open("rb") as stream:
                for block in iter(functools.partial(stream.read, ZIP_CHUNK), b""):
                    member.write(block)
