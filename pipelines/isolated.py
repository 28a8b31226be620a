"""Run a function in a forked process and take back only its result.

Loading and validating make millions of short-lived objects. Once freed, their memory stays
with the process that made them: Python's and C's allocators keep it, fragmented, for reuse
(about 800 MB at 100,000 stories) and the large buffers of later stages cannot use it. Run
in a child, that memory goes back to the system when the child ends, and only the result
comes back, pickled, and is rebuilt compactly.

The result is pickled and unpickled with the cyclic garbage collector paused: a large result
(the commons of 100,000 stories) is millions of new objects, and the collector traversed
them again and again as they were made (unpickling it took 5 s instead of 1 s). Once it is
rebuilt, what is alive is frozen (gc.freeze): the result lives on, and the collector's later
full collections need not traverse it.
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")


class ChildFailed(RuntimeError):
    """The child process stopped without a result, or raised something that cannot be sent."""


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def in_child(function: Callable[..., T], *args: Any) -> T:
    """function(*args), computed in a forked child; its exception is raised here.

    Where the platform cannot fork, it runs in this process.
    """
    if not can_fork():
        return function(*args)
    receive, send = multiprocessing.get_context("fork").Pipe(duplex=False)
    # Not a daemon: the child may start processes of its own (the parallel file readers).
    child = multiprocessing.get_context("fork").Process(
        target=_run, args=(send, function, args), name=f"in-child-{function.__name__}"
    )
    child.start()
    send.close()
    try:
        try:
            with _collector_paused(freeze=True):
                outcome, payload = receive.recv()
        except EOFError:
            child.join()
            raise ChildFailed(
                f"the process running {function.__name__} stopped without a result "
                f"(exit code {child.exitcode}); it may have run out of memory"
            ) from None
        child.join()
    finally:
        receive.close()
        if child.is_alive():
            child.terminate()
            child.join()
    if outcome == "raised":
        raise payload
    if outcome == "crashed":
        raise ChildFailed(payload)
    return payload


def _run(send: Connection, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        try:
            result = function(*args)
        except Exception as error:  # noqa: BLE001 - every failure goes back to the parent
            try:
                pickle.dumps(error)
                send.send(("raised", error))
            except Exception:  # noqa: BLE001 - an exception that cannot be pickled
                send.send(("crashed", traceback.format_exc()))
            return
        with _collector_paused(freeze=False):
            send.send(("returned", result))
    finally:
        send.close()


@contextmanager
def _collector_paused(freeze: bool) -> Iterator[None]:
    """Run a block without the cyclic garbage collector; with freeze, the objects alive
    after it are frozen before the collector runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if freeze:
                gc.freeze()
            gc.enable()
