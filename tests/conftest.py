"""Shared fixtures: the sample instance, copied with the real schemas into a temporary folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.fake_github import FakeGitHub

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SAMPLE = ROOT / "tests" / "data" / "sample"
INVALID = ROOT / "tests" / "data" / "invalid"
SETTINGS = ROOT / "pelican.conf.py"


def make_instance(target: Path, source: Path = SAMPLE) -> Path:
    """A data folder: the source's files plus the project's descriptor and schemas."""
    shutil.copytree(source, target)
    shutil.copy(DATA / "datapackage.json", target / "datapackage.json")
    shutil.copytree(DATA / "schemas", target / "schemas")
    return target


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A writable copy of the sample instance."""
    return make_instance(tmp_path / "sample")


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample instance built once into a site."""
    from pipelines.build import build_all

    base = tmp_path_factory.mktemp("sample-site")
    data = make_instance(base / "data")
    build_all(data, base / "output", SETTINGS)
    return base / "output"


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo instance in data/ built once into a site."""
    from pipelines.build import build_all

    output = tmp_path_factory.mktemp("demo-site") / "output"
    build_all(DATA, output, SETTINGS)
    return output


def skip_or_fail(reason: str) -> None:
    """Skip a test that lacks a tool; in CI (CI=true) a missing tool fails it instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: browser tests may not be skipped in CI)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's chromium, which the browser tests drive (Playwright never downloads one)."""
    path = Path("/usr/bin/chromium")
    if not path.is_file():
        skip_or_fail(
            "Debian's chromium is missing from /usr/bin/chromium (apt-get install chromium)"
        )
    return path


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """A local fake of GitHub's REST API on 127.0.0.1 (tests never reach GitHub)."""
    from tests.fake_github import FakeGitHub

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    with FakeGitHub() as server:
        yield server


def pytest_assertrepr_compare(op: str, left: object, right: object) -> list[str] | None:
    """Two folders' files (tests.trees.Tree) compared: which files differ, and how."""
    from tests.trees import Tree, explain

    if op == "==" and isinstance(left, Tree) and isinstance(right, Tree):
        return explain(left, right)
    return None
