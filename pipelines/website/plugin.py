"""Pelican plugin: adds our generator, and counts the hand-written pages Pelican read."""

from __future__ import annotations

from typing import Any

from pelican import signals
from pelican.generators import Generator

from pipelines.website.files import FilesGenerator
from pipelines.website.generator import CommonsGenerator


def _generators(_pelican: Any) -> list[type[Generator]]:
    # Pages first: the files generator lists the pages CommonsGenerator planned.
    return [CommonsGenerator, FilesGenerator]


def register() -> None:
    signals.get_generators.connect(_generators)
