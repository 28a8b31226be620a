"""Pelican plugin: adds our generator, and counts the hand-written pages Pelican read."""

from __future__ import annotations

from typing import Any

from pelican import signals

from pipelines.website.generator import CommonsGenerator


def _generators(_pelican: Any) -> type[CommonsGenerator]:
    return CommonsGenerator


def register() -> None:
    signals.get_generators.connect(_generators)
