"""Write the published tables as CSV, JSON and Parquet, and each provider's own CSV and JSON.

Each writer is whole-column work in pyarrow, or one JSON encoding per row shared by every
file the row appears in, so the export stays linear; every writer is deterministic.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
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


def _provider_order(providers: list[str]) -> tuple[list[int], dict[str, tuple[int, int]]]:
    """Row order grouping rows by provider (a stable sort: each provider's rows keep their order),
    and where each provider's run starts and how long it is."""
    order = pc.sort_indices(pa.array(providers, pa.string())).to_pylist()
    counts = Counter(providers)
    slices: dict[str, tuple[int, int]] = {}
    start = 0
    for key in sorted(counts):  # ids are ASCII: code point order is pyarrow's byte order
        slices[key] = (start, counts[key])
        start += counts[key]
    return order, slices


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
