from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pipelines import __version__
from pipelines.cli import main
from pipelines.load import load_dataset
from pipelines.problems import report_as_dict
from pipelines.validate import validate_dataset


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def break_a_rating(sample: Path) -> None:
    story = sample / "stories/2026/2026-01-05-aaaa01.yaml"
    story.write_text(story.read_text().replace("overall: 5", "overall: 6"))


def test_version() -> None:
    code, out, _ = run("--version")
    assert (code, out) == (0, f"feedback, version {__version__}\n")


def test_validate_valid_data_exits_0(sample: Path) -> None:
    code, out, _ = run("validate", "--data", str(sample))
    assert (code, out) == (0, "no problems (18 files checked)\n")


def test_validate_errors_exit_1_with_file_line(sample: Path) -> None:
    break_a_rating(sample)
    code, out, _ = run("validate", "--data", str(sample))
    assert code == 1
    assert out.startswith("sample/stories/2026/2026-01-05-aaaa01.yaml:11: error: ratings.overall:")


def test_validate_json_equals_the_python_report(sample: Path) -> None:
    break_a_rating(sample)
    code, out, _ = run("validate", "--data", str(sample), "--format", "json")
    assert code == 1
    expected = report_as_dict(validate_dataset(load_dataset(sample)).report)
    assert json.loads(out) == expected
    assert list(json.loads(out)) == ["accepted", "problems", "summary"]
    problem = json.loads(out)["problems"][0]
    assert sorted(problem) == [
        "code",
        "expected",
        "field",
        "fix",
        "got",
        "line",
        "path",
        "severity",
    ]


def test_usage_error_exits_2() -> None:
    code, _, err = run("validate", "--format", "yaml")
    assert code == 2
    assert "Invalid value for '--format'" in err


def test_missing_data_directory_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    code, out, err = run("validate", "--data", str(tmp_path / "nowhere"))
    assert code == 2
    assert out == ""
    assert "no data directory" in err
    assert "Traceback" not in err


def test_build_failure_leaves_previous_output(sample: Path, tmp_path: Path) -> None:
    output = tmp_path / "site"
    output.mkdir()
    (output / "keep.txt").write_text("previous build")
    break_a_rating(sample)
    code, _, err = run("build", "--data", str(sample), "--output", str(output))
    assert code == 1
    assert "rating-out-of-range" in err
    assert "build failed" in err
    assert [p.name for p in output.iterdir()] == ["keep.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site")]


def test_build_writes_the_site(sample: Path, tmp_path: Path) -> None:
    output = tmp_path / "site"
    code, out, _ = run("build", "--data", str(sample), "--output", str(output))
    assert code == 0
    assert out.startswith("built ")
    assert (output / "stories/2026-01-05-aaaa01/index.html").is_file()


def test_python_m_pipelines_is_the_cli() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "pipelines", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "Usage: python -m pipelines" in result.stdout or "Usage: feedback" in result.stdout
    assert "validate" in result.stdout
