"""Pools are sized by the cores a process may run on, not by the machine's."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipelines import cores
from tests.conftest import ROOT


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="affinity is Linux's")
def test_a_process_held_to_one_core_counts_one() -> None:
    code = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
        "from pipelines.cores import usable_cores; print(usable_cores(), os.cpu_count())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    usable, machine = done.stdout.split()
    assert usable == "1"
    assert int(machine) >= 1


def test_without_affinity_the_machine_s_cores_are_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert cores.usable_cores() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert cores.usable_cores() == 1
