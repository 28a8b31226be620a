"""`feedback export`: the commons as a versioned Frictionless data package in CSV, JSON, Parquet and SQLite."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from pipelines.export.archive import PreviousZip
    from pipelines.export.parts import Earlier, PackageFiles

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


def _download(files: PackageFiles, path: str, title: str) -> Download:
    return Download(
        path, title, FORMAT_TITLES[Path(path).suffix], files.size[path], files.sha256[path]
    )


def _previous_zip(earlier: Earlier | None, environment: str) -> PreviousZip | None:
    """The previous export's zip, to copy unchanged pieces from, when it and the previous
    version of each member it lists are still as the stamp lists them."""
    from pipelines.export.archive import PreviousZip

    if earlier is None or earlier.archive.get("environment") != environment:
        return None
    try:
        name = str(earlier.archive["name"])
        if earlier.intact(name) is None:
            return None
        members = {}
        for member, (sha256, at) in earlier.archive["members"].items():
            listed = earlier.intact(member)
            if listed is not None and listed.sha256 == sha256:
                pieces = [[int(offset), int(length)] for offset, length in at]
                members[str(member)] = (earlier.previous / member, pieces)
    except (KeyError, TypeError, ValueError) as error:
        log.debug("not copying from the previous zip: %s", error)
        return None
    return PreviousZip(earlier.previous / name, members)


def write_package(
    commons: Commons,
    data_dir: Path,
    folder: Path,
    earlier: Earlier | None = None,
) -> tuple[DataRelease, PackageFiles]:
    """Write every file of the package into folder, which must be empty or missing, or keep
    it from the previous export that earlier describes when its bytes would not change."""
    import pyarrow as pa

    from pipelines.export.parts import PackageFiles

    # Arrow's buffers come from the C library's allocator while the package is written:
    # mimalloc, pyarrow's default, hands the export's large short-lived buffers back to the
    # system and faults them in again, which was measured at about 40% more CPU in all.
    # Each buffer is freed by the allocator it came from, so switching back is safe.
    default = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        files = PackageFiles(folder, earlier)
        return _write_package(commons, data_dir, files), files
    finally:
        pa.set_memory_pool(default)


def _write_package(commons: Commons, data_dir: Path, files: PackageFiles) -> DataRelease:
    from pipelines.export.archive import write_zip
    from pipelines.export.descriptor import (
        build_descriptor,
        citation_cff,
        datasette_metadata,
        package_name,
    )
    from pipelines.export.formats import (
        json_array,
        provider_jsons,
        sha256_of,
        story_csvs,
        write_csv,
        write_parquet,
    )
    from pipelines.export.history import added_in_commits, created_time, release_history
    from pipelines.export.parts import combined_key, environment_key, table_key
    from pipelines.export.rows import json_rows
    from pipelines.export.sqlite import write_sqlite
    from pipelines.export.tables import Provenance, build_tables
    from pipelines.load import display_path

    folder = files.folder
    package = read_source_package(data_dir)
    schema_version = str(package.descriptor.get("version", ""))
    provenance = Provenance(added_in_commits(data_dir), schema_version, display_path(data_dir))
    tables = build_tables(commons, package, provenance)
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("json", "parquet", "providers"):
        (folder / sub).mkdir(exist_ok=True)

    database = f"{DATABASE}.db"
    by_name = {t.name: t for t in tables}
    environment = environment_key()
    # What each table's files are made from: a file whose key the previous export listed
    # for it, and which is still there as it listed, is kept instead of written.
    keys = {t.name: table_key(t, environment) for t in tables}

    def written(name: str, key: str, write: Callable[[Path], object]) -> None:
        if not files.kept_as(name, key=key):
            write(folder / name)
            files.wrote(name, key=key)

    # Arrow, SQLite, ISA-L and file writes do most of their work with the GIL released, so
    # the writers run side by side: SQLite from the start; the rows encoded as JSON, then
    # the JSON files and the providers' JSON; Parquet; and here, CSV and the providers' CSV.
    # The zip (which leaves out providers/) deflates on every core once its members are done.
    with ThreadPoolExecutor(max_workers=3) as pool:
        sqlite_done = pool.submit(
            written,
            database,
            combined_key(environment, database, *keys.values()),
            functools.partial(write_sqlite, tables),
        )

        def write_jsons() -> None:
            rows = {t.name: json_rows(t.data) for t in tables}
            for table in tables:
                path = f"json/{table.name}.json"
                if not files.kept_as(path, key=keys[table.name]):
                    files.put(path, json_array(rows[table.name]), keys[table.name])
            for name, parts in provider_jsons(by_name, rows):
                files.put(f"providers/{name}", parts)

        jsons_done = pool.submit(write_jsons)

        def write_parquets() -> None:
            for table in tables:
                written(
                    f"parquet/{table.name}.parquet",
                    keys[table.name],
                    functools.partial(write_parquet, table),
                )

        parquet_done = pool.submit(write_parquets)
        log.info("writing CSV, JSON, Parquet and SQLite")
        sizes: dict[str, tuple[int, str]] = {}
        stories_csv, providers_csv = story_csvs(by_name, commons)
        for table in tables:
            path = f"{table.name}.csv"
            if table.name == "stories":
                if not files.kept_as(path, key=keys[table.name]):
                    files.put(path, stories_csv, keys[table.name])
                del stories_csv
            else:
                written(path, keys[table.name], functools.partial(write_csv, table))
            sizes[path] = (files.size[path], files.sha256[path])
        content = hashlib.sha256(
            "".join(f"{p}:{d}\n" for p, (_, d) in sorted(sizes.items())).encode()
        )
        created = created_time(data_dir, commons)
        version = f"{created[:10]}.{content.hexdigest()[:8]}"
        name = package_name(commons.instance)
        descriptor = build_descriptor(
            commons.instance, tables, sizes, version, created, schema_version
        )
        files.put(DESCRIPTOR, [dump_json(descriptor)])
        files.put(
            "metadata.json", [dump_json(datasette_metadata(commons.instance, tables, DATABASE))]
        )
        files.put("CITATION.cff", [citation_cff(commons.instance, version, created)])
        for path, parts in providers_csv:
            files.put(f"providers/{path}", parts)
        jsons_done.result()
        parquet_done.result()
        sqlite_done.result()

        downloads = [_download(files, DESCRIPTOR, "Data package descriptor (Frictionless v2)")]
        downloads += [_download(files, f"{t.name}.csv", t.title) for t in tables]
        downloads += [_download(files, f"json/{t.name}.json", t.title) for t in tables]
        downloads += [_download(files, f"parquet/{t.name}.parquet", t.title) for t in tables]
        downloads.append(_download(files, database, "Every table, with full-text search"))
        downloads.append(_download(files, "metadata.json", "Datasette metadata"))
        downloads.append(_download(files, "CITATION.cff", "How to cite this version"))

        log.info("writing the zip")
        archive = f"{name}.zip"
        moment = dt.datetime.fromisoformat(created.replace("Z", "+00:00")).timetuple()[:6]
        members = {d.path: d.sha256 for d in downloads}
        zip_key = combined_key(environment, archive, repr(moment), repr(sorted(members.items())))
        if not files.kept_as(archive, key=zip_key):
            pieces = write_zip(
                folder,
                members,
                folder / archive,
                moment,
                sources={path: files.path_of(path) for path in members},
                previous=_previous_zip(files.earlier, environment),
            )
            files.wrote(archive, key=zip_key)
            files.archive = {
                "name": archive,
                "environment": environment,
                "members": {n: [members[n], at] for n, at in pieces.items() if n in members},
            }
        elif files.earlier is not None:
            files.archive = files.earlier.archive
    downloads.insert(0, _download(files, archive, "Everything above in one zip"))

    source = {t.name: t.path for t in package.tables}
    versions = release_history(
        data_dir, commons, version, created, source["stories"], source["moderation"]
    )
    # The descriptor as read back from its file (read_release): a release reused from an
    # earlier export is then equal to the one written, and so is the data page's input key.
    published = json.loads(dump_json(descriptor))
    release = DataRelease(name, version, created, tuple(downloads), tuple(versions), published)
    files.put(MANIFEST, [dump_json(manifest_of(release))])

    # Every file of the package, kept or written, and any other written into its folder.
    every = set(files.sha256)
    every.update(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    every.discard(CHECKSUMS)
    sums = "".join(
        f"{files.sha256.get(path) or sha256_of(folder / path)}  {path}\n" for path in sorted(every)
    )
    files.put(CHECKSUMS, [sums.encode("utf-8")])
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
    written again, and of a changed one only the files whose bytes change are: when
    previous is the folder output updates in place the others are kept, else they are
    hard-linked from it: the same bytes. data_digest, load's Dataset.digest of the data
    the commons came from, makes the check quicker.
    """
    from pipelines.export.reuse import earlier_export, export_key, reuse, write_stamp

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
    earlier = None
    if cache_dir is not None and previous is not None and previous.is_dir():
        earlier = earlier_export(cache_dir, previous, output)
    release, files = write_package(commons, data_dir, output.dir, earlier)
    if cache_dir is not None:
        log.info(
            "wrote %d files of the data package, kept %d as they were",
            len(files.sha256) - len(files.reused),
            len(files.reused),
        )
        write_stamp(cache_dir, previous or output.target, key, files)
    return release
