"""One zip of the package: fixed timestamps, order and compression, deflated on every core.

Deflate is zlib's, which gives the same bytes for the same input every time and on every
machine with the same zlib (its version is part of the export's environment key). ISA-L,
used before for a quarter of the CPU, did not: now and then it coded the same chunk
differently (a dynamic block where it had made a fixed one), so a rebuild's zip, which
copies pieces from the previous one, was not byte for byte a clean export's.
Each chunk of a member is deflated on its own, so its piece of the zip is a function of the
chunk's bytes (and whether it ends the member) alone: a rebuild copies from the previous zip
the piece of each chunk that the member's previous version holds at the same place.
"""

from __future__ import annotations

import functools
import os
import struct
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from pipelines.cores import usable_cores

ZIP_LEVEL = 1  # zlib's fastest: about 1 s of CPU per 100 MB on the machine of the benchmarks
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


def _pread(path: Path, length: int, offset: int) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, length, offset)
    finally:
        os.close(fd)


class PreviousZip:
    """The previous zip, with each deflated member's previous version (the file it was made
    from) and where the piece of each of its chunks lies in the zip."""

    def __init__(self, path: Path, members: dict[str, tuple[Path, list[list[int]]]]) -> None:
        self.path = path
        self.members = members

    def piece(self, name: str, index: int, chunk: bytes, last: bool) -> bytes | None:
        """The piece of the index-th chunk of member name, when the member's previous version
        held the same chunk there (the last one too, or not too): the same piece."""
        source, pieces = self.members.get(name, (None, []))
        if source is None or index >= len(pieces) or last != (index == len(pieces) - 1):
            return None
        # A last chunk must end the previous version too: one byte more is asked for.
        if _pread(source, len(chunk) + last, index * ZIP_CHUNK) != chunk:
            return None
        offset, length = pieces[index]
        piece = _pread(self.path, length, offset)
        return piece if len(piece) == length else None


def _piece(chunk: bytes, last: bool, place: tuple[str, int], previous: PreviousZip | None) -> bytes:
    """The chunk deflated, or copied from the previous zip."""
    found = previous.piece(*place, chunk, last) if previous is not None else None
    return found if found is not None else _deflate(chunk, last)


def _pieces(
    name: str, path: Path, pool: ThreadPoolExecutor, previous: PreviousZip | None
) -> Iterator[tuple[bytes, Future[bytes]]]:
    """Each chunk of the file and its compressed piece, compressed a few chunks ahead in threads."""
    pending: deque[tuple[bytes, Future[bytes]]] = deque()
    ahead = 2 * usable_cores()
    with path.open("rb") as source:
        chunk = source.read(ZIP_CHUNK)
        index = 0
        while True:
            following = source.read(ZIP_CHUNK) if chunk else b""
            last = not following
            pending.append((chunk, pool.submit(_piece, chunk, last, (name, index), previous)))
            index += 1
            if len(pending) > ahead:
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


def write_zip(
    folder: Path,
    members: dict[str, str],
    path: Path,
    date: tuple[int, ...],
    *,
    sources: dict[str, Path] | None = None,
    previous: PreviousZip | None = None,
) -> dict[str, list[list[int]]]:
    """A zip of the members (paths in folder: SHA-256), fixed in time, order and compression.

    A member is read from sources[name] when given there. Deflate runs on every core, chunk
    by chunk, and a chunk the previous zip holds already is copied from it. Returns where
    each deflated member's pieces lie, for the next zip to copy. The zip is written as a
    plain (not Zip64) archive, or by the zipfile module when it would pass 4 GiB (copying
    and returning nothing).
    """
    names = sorted(members)
    sums = "".join(f"{members[n]}  {n}\n" for n in names).encode("utf-8")
    (folder / ".SHA256SUMS.zip").write_bytes(sums)
    where = sources or {}
    entries = [(n, where.get(n, folder / n)) for n in names]
    entries.append(("SHA256SUMS", folder / ".SHA256SUMS.zip"))
    pieces: dict[str, list[list[int]]] = {}
    try:
        if sum(source.stat().st_size for _, source in entries) >= ZIP_LIMIT:
            _write_zip64(entries, path, date)
            return {}
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
                    at = pieces.setdefault(name, [])
                    for chunk, done in _pieces(name, source, pool, previous):
                        crc, size = zlib.crc32(chunk, crc), size + len(chunk)
                        piece = done.result()
                        at.append([out.tell(), len(piece)])
                        written += out.write(piece)
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
    return pieces


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
