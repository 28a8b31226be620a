"""An unchanged export is not written again: its files are kept, or linked from the previous one.

The package is a pure function of the data, what git says about it, this code and a few
libraries. A digest of all of them (the key) is kept in the cache folder with a listing of
the files the export wrote (size, inode, modification time, SHA-256 and what each was made
from: see parts.py) and where the zip's pieces lie; when the previous folder's key equals
this run's and its files are still those, they are kept where they are (when the export
updates that folder) or linked (copied across file systems) into the new folder instead
of written again. When the key differs, the listing still lets the export keep each file
whose bytes would not change. Nothing is added to the package itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

from pipelines import cachefiles
from pipelines.export.history import RELEASE_TAGS, _git
from pipelines.export.parts import Earlier, Listed, PackageFiles, environment_key
from pipelines.export.release import dump_json
from pipelines.logs import get_logger
from pipelines.package import read_source_package
from pipelines.records import Commons
from pipelines.staging import Staging

log = get_logger(__name__)

KEY_FORMAT = 2


def export_key(commons: Commons, data_dir: Path, data_digest: str | None = None) -> str:
    """A digest of everything the package is made from.

    data_digest is the digest of the data files the commons was validated from (load's
    Dataset.digest): quicker than the commons itself, which is pickled when it is not given.
    """
    digest = hashlib.sha256(f"{KEY_FORMAT}\0{environment_key()}\0".encode())
    # The source package's descriptor and schemas give the published ones.
    package = read_source_package(data_dir)
    digest.update(dump_json([package.descriptor, *(table.schema for table in package.tables)]))
    if data_digest:
        digest.update(f"data\0{data_digest}\0".encode())
    else:
        digest.update(hashlib.sha256(pickle.dumps(commons, protocol=5)).digest())
    # What git adds: the commits that added files and the last change (both follow from
    # HEAD), and the release tags; outside git, SOURCE_DATE_EPOCH may set the date. The
    # working tree itself is the data, in data_digest or the commons.
    for args in (
        ("rev-parse", "--is-shallow-repository", "HEAD"),
        (
            "for-each-ref",
            "--format=%(refname)%00%(objectname)%00%(creatordate:short)",
            RELEASE_TAGS,
        ),
    ):
        digest.update(f"{_git(data_dir, *args)}\0".encode())
    digest.update(f"{os.environ.get('SOURCE_DATE_EPOCH', '')}\0".encode())
    return digest.hexdigest()


def _stamp_path(cache_dir: Path, previous: Path) -> Path:
    name = hashlib.sha256(str(previous.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"export-{name}.json"


def write_stamp(cache_dir: Path, previous: Path, key: str, files: PackageFiles) -> None:
    """Record the key and the files of the package just written, which is to become
    previous (renamed there: inodes and times stay), and where its zip's pieces lie."""
    _write_stamp(
        cache_dir,
        previous,
        {"format": KEY_FORMAT, "key": key, "files": files.listing(), "archive": files.archive},
    )


def _write_stamp(cache_dir: Path, previous: Path, stamp: dict[str, Any]) -> None:
    data = json.dumps(stamp, sort_keys=True).encode("utf-8")
    cachefiles.keep(_stamp_path(cache_dir, previous), data, "the export stamp")


def _read_stamp(cache_dir: Path, previous: Path) -> dict[str, Any] | None:
    try:
        stamp = json.loads(_stamp_path(cache_dir, previous).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        log.debug("no export stamp for %s: %s", previous, error)
        return None
    if not isinstance(stamp, dict) or stamp.get("format") != KEY_FORMAT:
        return None
    return stamp


def earlier_export(cache_dir: Path, previous: Path, output: Staging) -> Earlier | None:
    """The previous export's files as its stamp lists them, for this export to keep what it can."""
    stamp = _read_stamp(cache_dir, previous)
    if stamp is None:
        return None
    try:
        return Earlier.of(previous, output, stamp)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        log.debug("not keeping files of %s: %s", previous, error)
        return None


def reuse(cache_dir: Path, previous: Path, output: Staging, key: str) -> bool:
    """Reuse the previous package in output when its key is key; whether it was.

    When output updates previous in place, its files are kept; else they are linked into
    output's folder, which must be empty.
    """
    in_place = output.previous is not None and previous.resolve() == output.previous.resolve()
    try:
        stamp = _read_stamp(cache_dir, previous)
        if stamp is None or stamp.get("key") != key:
            return False
        # Files added beside the package since (the site's data page) are not its own.
        names, rows = [], []
        for name, *row in stamp["files"]:
            listed = Listed(*row[:5])
            found = listed.found_at(previous / name)
            if found is None:
                log.info("%s was changed since it was exported: exporting again", name)
                return False
            names.append(str(name))
            rows.append(found.row(str(name)))
        if rows != stamp["files"]:
            # Restored or copied: the same bytes, listed anew so that the next build need
            # not hash them again.
            _write_stamp(cache_dir, previous, {**stamp, "files": rows})
        for name in names:
            if in_place:
                output.keep(name)
                continue
            target = output.dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(previous / name, target)
            except OSError:
                shutil.copy2(previous / name, target)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        log.debug("not reusing %s: %s", previous, error)
        for child in list(output.dir.iterdir()) if output.dir.is_dir() else []:
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
        return False
    return True
