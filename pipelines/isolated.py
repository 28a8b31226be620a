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

Nor does the child free its objects one by one once it has sent its result (a second or
more at 100,000 stories, which the parent waited for): it ends at once, and the system takes
its memory back whole. What the function made and would free on returning, before the
result is sent, it can keep alive until then with outlive().

A function can also send one value before it returns (send_early), for the parent to
unpickle while the child finishes: the build's loading child sends the commons as soon as
it is built, while the validation rules still run.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Set in a child started by beside(): what outlive() keeps, freed only with the process.
_in_child = False
_outliving: list[object] = []
# In such a child: where send_early() sends, until the function's result is sent, and
# the child's pid (a process it forks in turn inherits the pipe, but must not send on it).
_early_pipe: Connection | None = None
_early_pid = 0
# A message that carries a value sent early, not the function's outcome.
_EARLY = "early"


class ChildFailed(RuntimeError):
    """The child process stopped without a result, or raised something that cannot be sent."""


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def in_child(function: Callable[..., T], *args: Any) -> T:
    """function(*args), computed in a forked child; its exception is raised here.

    Where the platform cannot fork, it runs in this process.
    """
    with beside(function, *args) as running:
        return running.result()


class Running(Generic[T]):
    """function(*args) computing in a forked child while this process goes on.

    result() waits for it; leaving the with block without asking stops the child.
    """

    def __init__(
        self, function: Callable[..., T], args: tuple[Any, ...], niceness: int = 0
    ) -> None:
        self.name = function.__name__
        self._outcome: tuple[str, Any] | None = None
        self._early: list[Any] = []
        self._child: Any = None
        self._receive: Connection | None = None
        if not can_fork():
            self._outcome = _outcome_of(function, args)
            return
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        # Not a daemon: the child may start processes of its own (the parallel file readers).
        self._child = context.Process(
            target=_run, args=(send, function, args, niceness), name=f"in-child-{self.name}"
        )
        self._child.start()
        send.close()

    def early(self) -> Any | None:
        """The value the function sent with send_early(), waiting for it if need be; None
        when it sent none (its outcome has come instead, for result())."""
        if self._outcome is None and not self._early:
            self._take(self._next())
        return self._early[0] if self._early else None

    def result(self) -> T:
        """The function's result, once it has one; its exception is raised here."""
        while self._outcome is None:
            self._take(self._next())
        outcome, payload = self._outcome
        if outcome == "raised":
            raise payload
        if outcome == "crashed":
            raise ChildFailed(payload)
        return payload

    def _take(self, message: tuple[str, Any]) -> None:
        if message[0] == _EARLY and not self._early:
            self._early.append(message[1])
        else:
            self._outcome = message
            self.stop()

    def _next(self) -> tuple[str, Any]:
        """The child's next message: a value sent early, or its outcome."""
        assert self._receive is not None
        try:
            with _collector_paused(freeze=True):
                received: tuple[str, Any] = self._receive.recv()
        except EOFError:
            self._child.join()
            received = (
                "crashed",
                f"the process running {self.name} stopped without a result "
                f"(exit code {self._child.exitcode}); it may have run out of memory",
            )
        return received

    def stop(self) -> None:
        """End the child, if it still runs, and release what it holds."""
        if self._receive is not None:
            self._receive.close()
            self._receive = None
        if self._child is not None:
            if self._child.is_alive() and self._outcome is None:
                self._child.terminate()
            self._child.join()
            self._child = None

    def __enter__(self) -> Running[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def outlive(*objects: object) -> None:
    """In a child started by beside(), keep objects alive until it ends (and is freed whole
    by the system): a function's working data, which returning would free object by object
    before its result is sent. Anywhere else it does nothing."""
    if _in_child:
        _outliving.extend(objects)


def send_early(value: object) -> bool:
    """In a child started by beside(), send value to the parent now, before the function's
    result (Running.early() gives it there); True when sent. Once only; anywhere else it
    sends nothing and returns False: the caller then returns the value with its result."""
    global _early_pipe
    if _early_pipe is None or os.getpid() != _early_pid:
        return False
    pipe, _early_pipe = _early_pipe, None
    with _collector_paused(freeze=False):
        pipe.send((_EARLY, value))
    return True


def beside(function: Callable[..., T], *args: Any, niceness: int = 0) -> Running[T]:
    """Start function(*args) in a forked child (in this process where it cannot fork).

    With niceness, the child runs at that much lower a priority (os.nice), as do the
    processes it starts: work that must be done by the end but not before this process's.
    """
    return Running(function, args, niceness)


def _outcome_of(function: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    """("returned", result), ("raised", exception) or, for an exception that cannot be
    pickled, ("crashed", its traceback)."""
    try:
        return ("returned", function(*args))
    except Exception as error:  # noqa: BLE001 - every failure goes back to the parent
        try:
            pickle.dumps(error)
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled
            return ("crashed", traceback.format_exc())
        return ("raised", error)


def _run(
    send: Connection, function: Callable[..., Any], args: tuple[Any, ...], niceness: int
) -> None:
    global _in_child, _early_pipe, _early_pid
    _in_child = True
    _early_pipe, _early_pid = send, os.getpid()
    if niceness:
        os.nice(niceness)
    try:
        outcome = _outcome_of(function, args)
        _early_pipe = None  # sent early or not, what follows is the outcome
        with _collector_paused(freeze=False):
            send.send(outcome)
    finally:
        send.close()
    # Sent: end now rather than free the outcome and what outlive() kept, object by object,
    # while the parent waits to join this process. Its own processes have ended with the
    # function (a function's pools and children are joined before it returns).
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)


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
