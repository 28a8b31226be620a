"""One zip of the package: fixed timestamps, order and compression, deflated on every core.

Deflate is ISA-L's (isal): a valid deflate stream like zlib's, for a quarter of the CPU.
Each chunk of a member is deflated on its own, so its piece of the zip is a function of the
chunk's bytes alone: a rebuild copies the pieces of unchanged chunks from the previous zip.
"""

from __future__ import annotations

import functools
import hashlib
import os
import struct
import zipfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from isal import isal_zlib

ZIP_LEVEL = 1  # ISA-L's levels run 0 to 3; 1 packs like zlib's 1 at four times the speed
ZIP_CHUNK = 1 << 22
ZIP_LIMIT = 0xFFFFFFFF  # past this, sizes and offsets need Zip64: left to the zipfile module


def _dos_time(date: tuple[int, ...]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date[:6]
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _deflate(chunk: bytes, last: bool) -> bytes:
    # Independent raw-deflate pieces joined make one valid stream when every piece but the
    # last ends on a byte boundary without the final-block bit: a sync flush does exactly that.
    compressor = isal_zlib.compressobj(ZIP_LEVEL, isal_zlib.DEFLATED, -15)
    return compressor.compress(chunk) + compressor.flush(
        isal_zlib.Z_FINISH if last else isal_zlib.Z_SYNC_FLUSH
    )


class PreviousPieces:
    """The deflated pieces of the previous zip, found by the name of the chunk each was made
    from (its SHA-256, and whether it ended its member) and read from that zip as needed."""

    def __init__(self, path: Path, at: dict[str, list[int]]) -> None:
        self.path = path
        self.at = at
        self._fd: int | None = None

    def read(self, name: str) -> bytes | None:
        where = self.at.get(name)
        if where is None:
            return None
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        offset, length = where
        piece = os.pread(self._fd, length, offset)
        return piece if len(piece) == length else None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _piece(
    chunk: bytes, last: bool, named: bool, previous: PreviousPieces | None
) -> tuple[bytes, str]:
    """The chunk deflated, or copied from the previous zip; and the chunk's name when named."""
    if not named:
        return _deflate(chunk, last), ""
    name = hashlib.sha256(chunk).hexdigest() + ("." if last else "")
    found = previous.read(name) if previous is not None else None
    return (found if found is not None else _deflate(chunk, last)), name


def _pieces(
    path: Path, pool: ThreadPoolExecutor, named: bool, previous: PreviousPieces | None
) -> Iterator[tuple[bytes, Future[tuple[bytes, str]]]]:
    """Each chunk of the file and its compressed piece, compressed a few chunks ahead in threads."""
    pending: deque[tuple[bytes, Future[tuple[bytes, str]]]] = deque()
    with path.open("rb") as source:
        chunk = source.read(ZIP_CHUNK)
        while True:
            following = source.read(ZIP_CHUNK) if chunk else b""
            last = not following
            pending.append((chunk, pool.submit(_piece, chunk, last, named, previous)))
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


def write_zip(
    folder: Path,
    members: dict[str, str],
    path: Path,
    date: tuple[int, ...],
    *,
    sources: dict[str, Path] | None = None,
    previous: PreviousPieces | None = None,
    record: bool = False,
) -> dict[str, list[int]]:
    """A zip of the members (paths in folder: SHA-256), fixed in time, order and compression.

    A member is read from sources[name] when given there. Deflate runs on every core, chunk
    by chunk, and a chunk the previous zip holds already is copied from it; with record,
    the zip's pieces are returned by chunk name for the next zip to copy. The zip is
    written as a plain (not Zip64) archive, or by the zipfile module when it would pass
    4 GiB (copying and recording nothing).
    """
    names = sorted(members)
    sums = "".join(f"{members[n]}  {n}\n" for n in names).encode("utf-8")
    (folder / ".SHA256SUMS.zip").write_bytes(sums)
    where = sources or {}
    entries = [(n, where.get(n, folder / n)) for n in names]
    entries.append(("SHA256SUMS", folder / ".SHA256SUMS.zip"))
    named = record or previous is not None
    pieces: dict[str, list[int]] = {}
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
                            crc, size = isal_zlib.crc32(block, crc), size + len(block)
                            written += out.write(block)
                else:
                    for chunk, done in _pieces(source, pool, named, previous):
                        crc, size = isal_zlib.crc32(chunk, crc), size + len(chunk)
                        piece, chunk_name = done.result()
                        if record:
                            pieces.setdefault(chunk_name, [out.tell(), len(piece)])
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
