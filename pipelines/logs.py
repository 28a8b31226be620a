"""Our loggers: standard ones, whatever Pelican has made of the logging module."""

from __future__ import annotations

import logging


def get_logger(name: str) -> logging.Logger:
    """logging.getLogger(name), without the filter Pelican puts on every logger.

    Importing Pelican makes its LimitLogger the class of every logger created after it,
    and that logger drops a message already logged once in the process: a long `feedback
    serve` session would say "nothing changed" once, and a rule's message would go missing
    from the second validation in the same process.
    """
    logger = logging.getLogger(name)
    for kept in list(logger.filters):
        if type(kept).__module__.startswith("pelican"):
            logger.removeFilter(kept)
    return logger
