"""Property-based tests: no story file, however strange, gives a traceback or an odd exit."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.cli import main
from tests.conftest import make_instance

STORY = "stories/2026/2026-05-01-prop01.yaml"
VALID = """id: 2026-05-01-prop01
provider: brook-surgery
title: A story for a property test
experienced: 2026-04
submitted: 2026-05-01
author:
  pseudonym: Prop
  role: patient
status: published
licence: CC-BY-4.0
consent: true
story: |
  {story}
"""

# YAML-ish text: the characters YAML gives meaning to, keys, indentation and line breaks.
YAML_PIECES = st.sampled_from(
    [
        "id: ",
        "story: ",
        "ratings:",
        "  overall: ",
        "- ",
        ": ",
        "\n",
        "  ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&a ",
        "*a",
        "!tag ",
        "!!python/object:os.system ",
        "|",
        ">",
        "'",
        '"',
        "#",
        "---\n",
        "...\n",
        "? ",
        "%YAML 1.2\n",
        "\t",
        "2026-02-30",
        "2026-05-01-prop01",
        "\ufeff",
        "\x00",
        "\u2028",
    ]
)
YAMLISH = st.lists(st.one_of(YAML_PIECES, st.text(max_size=8)), max_size=40).map("".join)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def run_validate(data_dir: Path, content: bytes) -> tuple[int, str, BaseException | None]:
    (data_dir / STORY).write_bytes(content)
    result = CliRunner().invoke(main, ["validate", "--data", str(data_dir), "--format", "json"])
    return result.exit_code, result.stdout, result.exception


def check(data_dir: Path, content: bytes) -> None:
    exit_code, out, exception = run_validate(data_dir, content)
    assert exit_code in (0, 1), (exit_code, out, exception)
    assert isinstance(exception, SystemExit) or exception is None
    assert "Traceback" not in out
    report = json.loads(out)
    assert (exit_code == 1) == (report["summary"]["errors"] > 0)


def fresh(tmp_path: Path) -> Path:
    """A new copy of the sample instance; the CLI's cache goes to tmp_path/.cache."""
    os.chdir(tmp_path)
    data = tmp_path / "data"
    if data.exists():
        shutil.rmtree(data)
    return make_instance(data)


@pytest.fixture(autouse=True)
def _restore_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path.cwd())  # fresh() changes directory; monkeypatch restores it


@SETTINGS
@given(text=YAMLISH)
def test_arbitrary_yamlish_text_never_crashes(tmp_path: Path, text: str) -> None:
    check(fresh(tmp_path), text.encode("utf-8", errors="surrogatepass"))


@SETTINGS
@given(text=st.text(max_size=300))
def test_arbitrary_unicode_as_a_whole_file_never_crashes(tmp_path: Path, text: str) -> None:
    check(fresh(tmp_path), text.encode("utf-8", errors="surrogatepass"))


@SETTINGS
@given(text=st.text(max_size=300))
def test_arbitrary_unicode_as_story_text_never_crashes(tmp_path: Path, text: str) -> None:
    indented = "\n  ".join(text.splitlines())
    check(fresh(tmp_path), VALID.format(story=indented).encode("utf-8", errors="surrogatepass"))


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(tmp_path: Path, raw: bytes) -> None:
    check(fresh(tmp_path), raw)


FILE_NAMES = st.binary(min_size=1, max_size=40).filter(
    lambda name: b"/" not in name and b"\x00" not in name and name not in (b".", b"..")
)


@SETTINGS
@given(name=FILE_NAMES)
def test_arbitrary_file_names_never_crash(tmp_path: Path, name: bytes) -> None:
    data = fresh(tmp_path)
    with open(bytes(data / "stories/2026") + b"/" + name, "wb") as handle:
        handle.write(b"id: x\n")
    result = CliRunner().invoke(main, ["validate", "--data", str(data), "--format", "json"])
    assert result.exit_code in (0, 1), (result.exit_code, result.output, result.exception)
    json.loads(result.stdout)
