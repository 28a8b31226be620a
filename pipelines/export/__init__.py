"""`feedback export`: the commons as a versioned Frictionless data package in CSV, JSON, Parquet and SQLite."""

from __future__ import annotations

import datetime as dt
import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipelines.export.release import (
    CHECKSUMS,
    DESCRIPTOR,
    MANIFEST,
    DataRelease,
    Download,
    dump_json,
    manifest_of,
    read_release,
)
from pipelines.logs import get_logger
from pipelines.package import read_source_package
from pipelines.records import Commons
from pipelines.staging import Staging, staged_output

log = get_logger(__name__)

DATABASE = "commons"
FORMAT_TITLES = {
    ".csv": "CSV",
    ".json": "JSON",
    ".parquet": "Parquet",
    ".db": "SQLite",
    ".zip": "Zip",
    ".cff": "Citation File Format",
}


def _download(folder: Path, path: str, title: str, digests: dict[str, str]) -> Download:
    from pipelines.export.formats import sha256_of

    file = folder / path
    digest = digests.get(path) or sha256_of(file)
    digests[path] = digest
    return Download(path, title, FORMAT_TITLES[file.suffix], file.stat().st_size, digest)


def write_package(commons: Commons, data_dir: Path, folder: Path) -> DataRelease:
    """Write every file of the package into folder, which must be empty or missing."""
    import pyarrow as pa

    # Arrow's buffers come from the C library's allocator while the package is written:
    # mimalloc, pyarrow's default, hands the export's large short-lived buffers back to the
    # system and faults them in again, which was measured at about 40% more CPU in all.
    # Each buffer is freed by the allocator it came from, so switching back is safe.
    default = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        return _write_package(commons, data_dir, folder)
    finally:
        pa.set_memory_pool(default)


def _write_package(commons: Commons, data_dir: Path, folder: Path) -> DataRelease:
    from pipelines.export.archive import write_zip
    from pipelines.export.descriptor import (
        build_descriptor,
        citation_cff,
        datasette_metadata,
        package_name,
    )
    from pipelines.export.formats import (
        sha256_of,
        write_csv,
        write_json,
        write_parquet,
        write_provider_csvs,
        write_provider_jsons,
    )
    from pipelines.export.history import added_in_commits, created_time, release_history
    from pipelines.export.rows import json_rows
    from pipelines.export.sqlite import write_sqlite
    from pipelines.export.tables import Provenance, build_tables
    from pipelines.load import display_path

    package = read_source_package(data_dir)
    schema_version = str(package.descriptor.get("version", ""))
    provenance = Provenance(added_in_commits(data_dir), schema_version, display_path(data_dir))
    tables = build_tables(commons, package, provenance)
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("json", "parquet"):
        (folder / sub).mkdir(exist_ok=True)

    digests: dict[str, str] = {}
    database = f"{DATABASE}.db"
    by_name = {t.name: t for t in tables}
    providers = folder / "providers"
    # Arrow, SQLite, ISA-L and file writes do most of their work with the GIL released, so
    # the writers run side by side: SQLite from the start; the rows encoded as JSON, then
    # the JSON files and the providers' JSON; Parquet; and here, CSV and the providers' CSV.
    # The zip (which leaves out providers/) deflates on every core once its members are done.
    with ThreadPoolExecutor(max_workers=3) as pool:
        sqlite_done = pool.submit(write_sqlite, tables, folder / database)

        def write_jsons() -> dict[str, str]:
            rows = {t.name: json_rows(t.data) for t in tables}
            written = {
                f"json/{t.name}.json": write_json(rows[t.name], folder / f"json/{t.name}.json")
                for t in tables
            }
            return written | {
                f"providers/{path}": digest
                for path, digest in write_provider_jsons(by_name, rows, providers).items()
            }

        jsons_done = pool.submit(write_jsons)

        def write_parquets() -> None:
            for table in tables:
                write_parquet(table, folder / f"parquet/{table.name}.parquet")

        parquet_done = pool.submit(write_parquets)
        log.info("writing CSV, JSON, Parquet and SQLite")
        sizes: dict[str, tuple[int, str]] = {}
        for table in tables:
            path = f"{table.name}.csv"
            digests[path] = write_csv(table, folder / path)
            sizes[path] = ((folder / path).stat().st_size, digests[path])
        content = hashlib.sha256("".join(f"{p}:{d}\n" for p, d in sorted(digests.items())).encode())
        created = created_time(data_dir, commons)
        version = f"{created[:10]}.{content.hexdigest()[:8]}"
        name = package_name(commons.instance)
        descriptor = build_descriptor(
            commons.instance, tables, sizes, version, created, schema_version
        )
        (folder / DESCRIPTOR).write_bytes(dump_json(descriptor))
        (folder / "metadata.json").write_bytes(
            dump_json(datasette_metadata(commons.instance, tables, DATABASE))
        )
        (folder / "CITATION.cff").write_bytes(citation_cff(commons.instance, version, created))
        digests.update(
            {
                f"providers/{p}": d
                for p, d in write_provider_csvs(by_name, commons, providers).items()
            }
        )
        digests.update(jsons_done.result())
        parquet_done.result()
        sqlite_done.result()

        downloads = [
            _download(folder, DESCRIPTOR, "Data package descriptor (Frictionless v2)", digests)
        ]
        downloads += [_download(folder, f"{t.name}.csv", t.title, digests) for t in tables]
        downloads += [_download(folder, f"json/{t.name}.json", t.title, digests) for t in tables]
        downloads += [
            _download(folder, f"parquet/{t.name}.parquet", t.title, digests) for t in tables
        ]
        downloads.append(_download(folder, database, "Every table, with full-text search", digests))
        downloads.append(_download(folder, "metadata.json", "Datasette metadata", digests))
        downloads.append(_download(folder, "CITATION.cff", "How to cite this version", digests))

        log.info("writing the zip")
        archive = f"{name}.zip"
        moment = dt.datetime.fromisoformat(created.replace("Z", "+00:00")).timetuple()[:6]
        write_zip(folder, {d.path: d.sha256 for d in downloads}, folder / archive, moment)
    downloads.insert(0, _download(folder, archive, "Everything above in one zip", digests))

    source = {t.name: t.path for t in package.tables}
    versions = release_history(
        data_dir, commons, version, created, source["stories"], source["moderation"]
    )
    release = DataRelease(name, version, created, tuple(downloads), tuple(versions), descriptor)
    (folder / MANIFEST).write_bytes(dump_json(manifest_of(release)))

    every = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    sums = "".join(
        f"{digests.get(path) or sha256_of(folder / path)}  {path}\n"
        for path in every
        if path != CHECKSUMS
    )
    (folder / CHECKSUMS).write_text(sums, encoding="utf-8")
    return release


def export_package(
    commons: Commons,
    data_dir: Path,
    output: Path | Staging,
    previous: Path | None = None,
    data_digest: str | None = None,
    cache_dir: Path | None = None,
) -> DataRelease:
    """Write the package into output, a folder replaced only when complete or a Staging.

    With cache_dir, the export is recorded there, and with previous too (a folder an
    export recorded there wrote, output itself included), an unchanged package is not
    written again: when previous is the folder output updates in place its files are
    kept, else they are hard-linked from it: the same bytes. data_digest, load's
    Dataset.digest of the data the commons came from, makes the check quicker.
    """
    from pipelines.export.reuse import export_key, reuse, write_stamp

    if isinstance(output, Path):
        with staged_output(output) as staging:
            return export_package(commons, data_dir, staging, previous, data_digest, cache_dir)
    key = export_key(commons, data_dir, data_digest) if cache_dir is not None else ""
    if (
        cache_dir is not None
        and previous is not None
        and previous.is_dir()
        and reuse(cache_dir, previous, output, key)
    ):
        log.info("the data package is unchanged: reused from %s", previous.as_posix())
        return read_release(previous)
    release = write_package(commons, data_dir, output.dir)
    if cache_dir is not None:
        write_stamp(cache_dir, previous or output.target, output.dir, key)
    return release
