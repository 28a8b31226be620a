"""Our loggers say a message every time, even after Pelican has changed the logging module."""

from __future__ import annotations

import importlib
import logging
import pkgutil

import pelican.log  # noqa: F401 - makes Pelican's LimitLogger the class of new loggers
import pytest

import pipelines
from pipelines.logs import get_logger


def test_a_message_logged_twice_is_said_twice(caplog: pytest.LogCaptureFixture) -> None:
    logger = get_logger("pipelines.test_logs_fresh")  # made after Pelican's import
    caplog.set_level(logging.INFO, logger=logger.name)
    for _ in range(2):
        logger.info("nothing changed since the last build into output")
    assert caplog.messages == ["nothing changed since the last build into output"] * 2


def test_no_module_logger_drops_repeated_messages() -> None:
    filtered = []
    for module in pkgutil.walk_packages(pipelines.__path__, "pipelines."):
        log = getattr(importlib.import_module(module.name), "log", None)
        if isinstance(log, logging.Logger) and log.filters:
            filtered.append(f"{module.name}: {log.filters}")
    assert filtered == []
