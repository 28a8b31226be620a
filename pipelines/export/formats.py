"""Write the published tables as CSV, JSON and Parquet, and each provider's own CSV and JSON.

Each writer is whole-column work in pyarrow, or one JSON encoding per row shared by every
file the row appears in, so the export stays linear; every writer is deterministic.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from pipelines.export.rows import ROW_END, Rows, csv_cells, csv_header, csv_pieces
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


def write_csv(table: PublishedTable, path: Path) -> str:
    """The table as CSV, safe in spreadsheets; returns the file's SHA-256.

    Written straight to the file and hashed from it after: the stories table's CSV is
    ~100 MB at 100,000 stories, which a buffer in memory would add to the export's peak.
    """
    pa_csv.write_csv(spreadsheet_safe(table), path, CSV_OPTIONS)
    return sha256_of(path)


def plain(data: pa.Table) -> pa.Table:
    """Dates as ISO text, the way JSON and SQLite carry them."""
    for index, field in enumerate(data.schema):
        if pa.types.is_date(field.type):
            data = data.set_column(index, field.name, pc.cast(data.column(index), pa.string()))
    return data


def write_file(path: Path, *parts: bytes | memoryview) -> str:
    """Write the parts one after another into path; their SHA-256, computed on the way."""
    digest = hashlib.sha256()
    with path.open("wb") as stream:
        for part in parts:
            digest.update(part)
            stream.write(part)
    return digest.hexdigest()


def json_array(rows: Rows) -> list[bytes | memoryview]:
    """The rows as a JSON array with one row a line: readable, diffable and quick to write."""
    body = rows.span()
    return [b"[\n", body[: -len(ROW_END)], b"\n]\n"] if body else [b"[]\n"]


def write_json(rows: Rows, path: Path) -> str:
    """The rows as a JSON array; returns the file's SHA-256."""
    return write_file(path, *json_array(rows))


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


def _provider_runs(keys: pa.Array) -> tuple[pa.Array, dict[str, tuple[int, int]]]:
    """Row order grouping rows by provider (a stable sort: each provider's rows keep their order),
    and where each provider's run starts and how long it is."""
    order = pc.sort_indices(keys)
    counts = pc.value_counts(keys.take(order))  # in order of first appearance: sorted
    runs: dict[str, tuple[int, int]] = {}
    start = 0
    for key, count in zip(
        counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
    ):
        runs[key] = (start, count)
        start += count
    return order, runs


def _rating_columns(
    tables: dict[str, PublishedTable], commons: Commons, story_ids: pa.ChunkedArray
) -> dict[str, pa.ChunkedArray]:
    """One column per rating dimension, a story a row, named as in the providers' CSV.

    The ratings come from the ratings table, so a withdrawn story's are empty there too.
    """
    ratings = tables["ratings"].data
    columns = {}
    for dimension in (d.id for d in commons.dimensions):
        given = ratings.filter(pc.equal(ratings.column("dimension"), dimension))
        where = pc.index_in(story_ids, value_set=given.column("story"))
        columns[f"rating_{dimension}"] = given.column("score").take(where)
    return columns


StoryFiles = Iterator[tuple[str, list[bytes | memoryview]]]


def story_csvs(
    tables: dict[str, PublishedTable], commons: Commons
) -> tuple[list[bytes | memoryview], StoryFiles]:
    """stories.csv's bytes in parts, and providers/<id>.csv: each provider's stories as in
    stories.csv with one column per rating, its name (in providers/) and bytes in parts.

    Both come from one encoding of the stories' cells (safe in spreadsheets): a provider's
    file is a header and a run of rows cut from one buffer.
    """
    stories = spreadsheet_safe(tables["stories"])
    ratings = _rating_columns(tables, commons, stories.column("id"))
    header = csv_header(stories)
    wide_header = csv_header([*stories.column_names, *ratings])
    provider_ids = tables["providers"].data.column("id").to_pylist()
    if stories.num_rows == 0:
        only: list[bytes | memoryview] = [wide_header]
        return [header], ((f"{pid}.csv", only) for pid in provider_ids)
    cells = csv_pieces(stories)
    whole = Rows.of(cells, b"\n")
    for column in ratings.values():
        cells += [",", csv_cells(column)]
    order, runs = _provider_runs(stories.column("provider").combine_chunks())
    wide = Rows.of(cells, b"\n").take(order)
    del cells
    spans = wide.spans([runs.get(pid, (0, 0)) for pid in provider_ids])

    def files() -> StoryFiles:
        for pid, span in zip(provider_ids, spans, strict=True):
            yield f"{pid}.csv", [wide_header, span]

    return [header, whole.span()], files()


def provider_jsons(
    tables: dict[str, PublishedTable], rows: dict[str, Rows]
) -> Iterator[tuple[str, list[bytes | memoryview]]]:
    """providers/<id>.json: the provider's row and every row about it, table by table.

    rows holds each table's rows encoded as JSON, so no row is encoded twice; each array is
    a run of rows cut from one buffer. Each file's name (in providers/) and its bytes in parts.
    """
    stories = tables["stories"].data
    provider_ids = tables["providers"].data.column("id").to_pylist()
    grouped: dict[str, list[memoryview]] = {
        "provider": [
            span[: -len(ROW_END)]
            for span in rows["providers"].spans([(i, 1) for i in range(len(provider_ids))])
        ]
    }
    for name, table in tables.items():
        names = table.data.column_names
        if "provider" in names and name != "providers":
            keys = table.data.column("provider").combine_chunks()
        elif "story" in names:
            where = pc.index_in(table.data.column("story"), value_set=stories.column("id"))
            keys = stories.column("provider").take(where).combine_chunks()
        else:
            continue
        order, runs = _provider_runs(keys)
        grouped[name] = rows[name].take(order).spans([runs.get(p, (0, 0)) for p in provider_ids])
    keys = {name: f"{json.dumps(name)}: ".encode() for name in grouped}
    for index, pid in enumerate(provider_ids):
        parts: list[bytes | memoryview] = [b"{\n"]
        for number, name in enumerate(sorted(grouped)):
            parts.append(b",\n" + keys[name] if number else keys[name])
            body = grouped[name][index]
            if name == "provider":
                parts.append(body)
            elif body:
                parts += [b"[\n", body[: -len(ROW_END)], b"\n]"]
            else:
                parts.append(b"[]")
        parts.append(b"\n}\n")
        yield f"{pid}.json", parts
