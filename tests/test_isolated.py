"""in_child and beside: a function run in a forked process, its result or its exception brought back."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

import pytest

from pipelines import isolated
from pipelines.isolated import ChildFailed, beside, can_fork, in_child
from pipelines.package import PackageError

pytestmark = pytest.mark.skipif(not can_fork(), reason="this platform cannot fork")

touched: list[int] = []


def _touch_and_return(value: int) -> tuple[int, int]:
    touched.append(value)
    return value * 2, os.getpid()


def _raise_package_error(message: str) -> None:
    raise PackageError(message)


class _Unpicklable(Exception):
    def __reduce__(self) -> str:
        raise TypeError("not this one")


def _raise_unpicklable() -> None:
    raise _Unpicklable("deep inside")


def _die() -> None:
    os._exit(3)


def test_the_result_comes_back_from_another_process() -> None:
    doubled, pid = in_child(_touch_and_return, 21)
    assert doubled == 42
    assert pid != os.getpid()
    assert touched == []  # what the child changed stayed in the child


def test_an_exception_is_raised_here_with_its_type_and_message() -> None:
    with pytest.raises(PackageError, match=r"datapackage\.json is not JSON"):
        in_child(_raise_package_error, "datapackage.json is not JSON")


def test_an_exception_that_cannot_be_sent_comes_back_as_its_traceback() -> None:
    with pytest.raises(ChildFailed, match="deep inside"):
        in_child(_raise_unpicklable)


def test_a_child_that_dies_is_a_clear_failure() -> None:
    with pytest.raises(ChildFailed, match=r"_die stopped without a result \(exit code 3\)"):
        in_child(_die)


def _wait_for(path: Path) -> str:
    deadline = time.monotonic() + 60
    while not path.exists():
        if time.monotonic() > deadline:
            return "the parent never wrote the file"
        time.sleep(0.01)
    return path.read_text()


def test_beside_runs_while_this_process_goes_on(tmp_path: Path) -> None:
    signal = tmp_path / "go"
    with beside(_wait_for, signal) as running:
        # The child can only finish once this process, not waiting for it, writes the file.
        signal.write_text("written meanwhile")
        assert running.result() == "written meanwhile"
        assert running.result() == "written meanwhile"  # asked again: the same result


def test_beside_raises_the_childs_exception_when_the_result_is_asked() -> None:
    with (
        beside(_raise_package_error, "no schema") as running,
        pytest.raises(PackageError, match="no schema"),
    ):
        running.result()


def test_leaving_beside_without_the_result_stops_the_child(tmp_path: Path) -> None:
    with beside(_wait_for, tmp_path / "never") as running:
        child = running._child
        assert child.is_alive()
    assert not child.is_alive()
    assert child.exitcode is not None


def _many_objects(count: int) -> list[list[int]]:
    return [[n] for n in range(count)]


def test_the_result_is_received_with_the_collector_paused_and_then_frozen() -> None:
    gc.unfreeze()
    assert gc.isenabled()
    result = in_child(_many_objects, 50_000)
    assert result == _many_objects(50_000)
    assert gc.isenabled()
    assert gc.get_freeze_count() >= 50_000  # the result is not traversed again
    gc.unfreeze()


def test_a_paused_collector_stays_paused() -> None:
    gc.disable()
    try:
        assert in_child(_many_objects, 10) == _many_objects(10)
        assert not gc.isenabled()
    finally:
        gc.enable()


class _Marks:
    """Writes a file when it is freed: shows whether a child freed it before ending."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __del__(self) -> None:
        self.path.write_text("freed", encoding="utf-8")


class _SentAsText(_Marks):
    def __reduce__(self) -> tuple[type, tuple[str]]:
        return (str, ("sent",))


def _make_marks(folder: Path, kept: bool) -> _Marks:
    working = _Marks(folder / "working")
    if kept:
        isolated.outlive(working)
    return _SentAsText(folder / "result")


@pytest.mark.parametrize("kept", [True, False])
def test_a_child_frees_nothing_it_kept_or_sent_and_ends_at_once(tmp_path: Path, kept: bool) -> None:
    assert in_child(_make_marks, tmp_path, kept) == "sent"
    assert (tmp_path / "working").exists() is not kept
    assert not (tmp_path / "result").exists()


def test_outlive_outside_a_child_keeps_nothing(tmp_path: Path) -> None:
    _make_marks(tmp_path, kept=True)
    assert (tmp_path / "working").read_text(encoding="utf-8") == "freed"


def _niceness() -> int:
    return os.nice(0)


def test_a_child_started_with_niceness_runs_at_a_lower_priority() -> None:
    here = os.nice(0)
    with beside(_niceness, niceness=3) as lower, beside(_niceness) as same:
        assert (lower.result(), same.result()) == (here + 3, here)
    assert os.nice(0) == here


def _send_early_then_wait(value: str, signal: Path) -> tuple[bool, str]:
    sent = isolated.send_early(value)
    again = isolated.send_early("a second value")  # once only
    return sent and not again, _wait_for(signal)


def test_a_value_sent_early_arrives_before_the_result(tmp_path: Path) -> None:
    signal = tmp_path / "go"
    with beside(_send_early_then_wait, "the commons", signal) as running:
        # The child cannot return until this process, holding the early value, writes the file.
        assert running.early() == "the commons"
        signal.write_text("then the report")
        assert running.early() == "the commons"  # asked again: the same value
        assert running.result() == (True, "then the report")
        assert running.early() == "the commons"


def test_without_a_value_sent_early_early_gives_none_and_the_result_stays() -> None:
    with beside(_touch_and_return, 4) as running:
        assert running.early() is None
        assert running.result()[0] == 8


def test_the_result_alone_is_asked_past_a_value_sent_early(tmp_path: Path) -> None:
    signal = tmp_path / "go"
    signal.write_text("at once")
    with beside(_send_early_then_wait, "unasked", signal) as running:
        assert running.result() == (True, "at once")
        assert running.early() == "unasked"


def _send_early_then_die() -> None:
    isolated.send_early("half a result")
    os._exit(3)


def test_a_child_that_dies_after_sending_early_is_still_a_clear_failure() -> None:
    with beside(_send_early_then_die) as running:
        assert running.early() == "half a result"
        with pytest.raises(ChildFailed, match=r"stopped without a result \(exit code 3\)"):
            running.result()


def test_send_early_outside_a_child_sends_nothing() -> None:
    assert isolated.send_early("kept by the caller") is False


def _send_early_from_a_forked_process() -> bool:
    # A process the child forks in turn (a worker pool's) inherits its pipe, not its right
    # to send on it.
    pid = os.fork()
    if pid == 0:
        os._exit(0 if isolated.send_early("from a grandchild") is False else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def test_a_process_a_child_forks_sends_nothing_early() -> None:
    with beside(_send_early_from_a_forked_process) as running:
        assert running.early() is None
        assert running.result() is True
