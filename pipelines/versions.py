"""The installed versions of the libraries that shape an output, folded into a digest.

A build's stamp and the export's reuse key both change when such a library changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata
from typing import Any


def add_library_versions(digest: Any, names: Iterable[str]) -> None:
    """Feed "name=version" (or "name=none" when not installed) for each of names to digest."""
    for name in names:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "none"
        digest.update(f"{name}={version}\0".encode())
