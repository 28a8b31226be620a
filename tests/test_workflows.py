"""The GitHub Actions workflows, parsed: triggers, least privilege, no pull-request code with
write access, pinned actions, and zizmor's audit."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ["ci", "comment", "intake", "promote", "publish", "release", "validate", "validate-cache"]
# The only write permissions each job may have.
WRITES: dict[tuple[str, str], set[str]] = {
    ("comment", "comment"): {"pull-requests", "issues"},
    ("intake", "issue-to-pr"): {"contents", "pull-requests", "issues"},
    ("publish", "deploy"): {"pages", "id-token"},
    ("release", "dataset"): {"contents"},
}


def workflow(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text(encoding="utf-8")))


def triggers(name: str) -> dict[str, Any]:
    document = workflow(name)
    on = document.get("on", document.get(True))  # YAML 1.1 reads a bare `on` as true
    return {on: None} if isinstance(on, str) else dict(on)


def steps(name: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (job_id, step)
        for job_id, job in workflow(name)["jobs"].items()
        for step in job.get("steps", [])
    ]


def uses(step: dict[str, Any], action: str) -> bool:
    return str(step.get("uses", "")).startswith(f"{action}@")


def test_every_workflow_is_tested() -> None:
    assert sorted(p.stem for p in WORKFLOWS.glob("*.yml")) == NAMES


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("validate", {"pull_request": None}),
        (
            "validate-cache",
            {
                "push": {"branches": ["main"]},
                "schedule": [{"cron": "17 4 * * 1"}],
                "workflow_dispatch": None,
            },
        ),
        ("comment", {"workflow_run": {"workflows": ["validate"], "types": ["completed"]}}),
        ("publish", {"push": {"branches": ["main"]}, "workflow_dispatch": None}),
        ("release", {"push": {"tags": ["v*"]}}),
        ("intake", {"issues": {"types": ["opened", "edited", "labeled"]}}),
        (
            "promote",
            {
                "workflow_dispatch": {
                    "inputs": {
                        "story": {
                            "description": "The story's id, as in the intake repository "
                            "(2026-11-22-k3m9qz)",
                            "required": True,
                            "type": "string",
                        }
                    }
                }
            },
        ),
        ("ci", {"push": {"branches": ["main"]}, "pull_request": None}),
    ],
)
def test_triggers(name: str, expected: dict[str, Any]) -> None:
    assert triggers(name) == expected


def test_comment_follows_the_validate_workflow_by_its_name() -> None:
    assert triggers("comment")["workflow_run"]["workflows"] == [workflow("validate")["name"]]


@pytest.mark.parametrize("name", NAMES)
def test_least_privilege(name: str) -> None:
    document = workflow(name)
    assert document["permissions"] in ({"contents": "read"}, {}), "start read-only"
    for job_id, job in document["jobs"].items():
        permissions = job.get("permissions", {})
        assert isinstance(permissions, dict), f"{job_id}: list permissions one by one"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes == WRITES.get((name, job_id), set()), job_id
        assert set(permissions.values()) <= {"read", "write", "none"}


@pytest.mark.parametrize("name", NAMES)
def test_checkouts_keep_no_credentials(name: str) -> None:
    checkouts = [step for _, step in steps(name) if uses(step, "actions/checkout")]
    assert checkouts, name
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("name", NAMES)
def test_actions_are_pinned_by_commit_with_their_version(name: str) -> None:
    lines = [
        line
        for line in (WORKFLOWS / f"{name}.yml").read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*(- )?uses:", line)
    ]
    assert lines
    for line in lines:
        assert re.search(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


@pytest.mark.parametrize("name", NAMES)
def test_no_expression_is_pasted_into_a_script(name: str) -> None:
    # Values reach scripts through env, so an issue title or branch name is never code.
    for job_id, step in steps(name):
        assert "${{" not in str(step.get("run", "")), (job_id, step.get("name"))


def test_validate_has_no_secrets_and_reports_for_the_comment_workflow() -> None:
    text = (WORKFLOWS / "validate.yml").read_text(encoding="utf-8")
    assert "secrets." not in text
    (checkout,) = [s for _, s in steps("validate") if uses(s, "actions/checkout")]
    assert checkout["with"]["fetch-depth"] == 0
    runs = "\n".join(str(s.get("run", "")) for _, s in steps("validate"))
    assert 'feedback validate --since "$BASE_SHA" --author "$PR_AUTHOR" --format github' in runs
    for output in ("report/report.json", "report/report.md", "report/pull-request.json"):
        assert output in runs
    (upload,) = [s for _, s in steps("validate") if uses(s, "actions/upload-artifact")]
    assert upload["with"]["name"] == "validation-report"
    env = {k: v for _, s in steps("validate") for k, v in s.get("env", {}).items()}
    assert env["PR_AUTHOR"] == "${{ github.event.pull_request.user.login }}"
    assert env["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"


CACHE_PREFIX = "feedback-validate-${{ hashFiles('constraints.txt') }}-"


def test_validate_keeps_its_cache_between_runs_and_never_publishes() -> None:
    (cache,) = [s for _, s in steps("validate") if uses(s, "actions/cache")]
    assert cache["with"] == {
        "path": ".cache",
        "key": CACHE_PREFIX + "${{ github.event.pull_request.base.sha }}",
        "restore-keys": CACHE_PREFIX + "\n",
    }
    # The cache holds what pull-request code wrote: no workflow that publishes may read it.
    for name in NAMES:
        if name not in ("validate", "validate-cache"):
            assert not [s for _, s in steps(name) if uses(s, "actions/cache")], name


def test_a_pull_requests_first_run_starts_from_the_default_branchs_cache() -> None:
    # validate-cache saves a cache per commit of the default branch, under the key a pull
    # request on that commit looks for first; a pull request on an older base finds the
    # newest one through its restore key (pull requests may restore their base branch's).
    (cache,) = [s for _, s in steps("validate-cache") if uses(s, "actions/cache")]
    assert cache["with"] == {
        "path": ".cache",
        "key": CACHE_PREFIX + "${{ github.sha }}",
        "restore-keys": CACHE_PREFIX + "\n",
    }
    # Trusted runs only: the default branch's own commits, a read-only token, no secrets.
    assert set(triggers("validate-cache")) == {"push", "schedule", "workflow_dispatch"}
    assert triggers("validate-cache")["push"] == {"branches": ["main"]}
    document = workflow("validate-cache")
    assert document["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in document["jobs"].values())
    assert "secrets." not in (WORKFLOWS / "validate-cache.yml").read_text(encoding="utf-8")
    runs = "\n".join(str(s.get("run", "")) for _, s in steps("validate-cache"))
    assert "feedback validate --quiet --since HEAD --format json" in runs


def test_comment_never_runs_pull_request_code() -> None:
    text = (WORKFLOWS / "comment.yml").read_text(encoding="utf-8")
    (checkout,) = [s for _, s in steps("comment") if uses(s, "actions/checkout")]
    assert checkout["with"]["ref"] == "${{ github.event.repository.default_branch }}"
    assert checkout["with"]["repository"] == "${{ github.repository }}"
    for risky in ("head_sha }}", "head_branch }}", "head_repository.full_name }}"):
        assert all(risky not in str(value) for value in checkout["with"].values())
    (download,) = [s for _, s in steps("comment") if uses(s, "actions/download-artifact")]
    assert download["with"]["path"].startswith("${{ runner.temp }}/")  # outside the checkout
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    (last,) = [s for _, s in steps("comment") if "feedback bot comment" in str(s.get("run", ""))]
    assert last["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    assert '--head-sha "$HEAD_SHA"' in last["run"]
    assert "pull_request_target" not in text
    condition = workflow("comment")["jobs"]["comment"]["if"]
    assert "github.event.workflow_run.event == 'pull_request'" in condition
    assert '["success", "failure"]' in condition  # a cancelled or skipped run has no report


def test_publish_deploys_with_the_pages_actions_one_at_a_time() -> None:
    document = workflow("publish")
    assert document["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    build, deploy = document["jobs"]["build"], document["jobs"]["deploy"]
    assert "permissions" not in build
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert any(uses(s, "actions/upload-pages-artifact") for s in build["steps"])
    assert [uses(s, "actions/deploy-pages") for s in deploy["steps"]] == [True]
    assert any("feedback build" in str(s.get("run", "")) for s in build["steps"])


@pytest.mark.parametrize("name", ["publish", "release"])
def test_exports_check_out_the_whole_history_and_tags(name: str) -> None:
    # A shallow clone leaves added_in_commit empty and the version history without releases.
    (checkout,) = [s for _, s in steps(name) if uses(s, "actions/checkout")]
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}


def test_release_attaches_the_dataset_and_checksums() -> None:
    runs = "\n".join(str(s.get("run", "")) for _, s in steps("release"))
    assert "feedback export --output output/data" in runs
    assert 'gh release create "$TAG"' in runs
    assert "output/data/*.zip output/data/SHA256SUMS" in runs


def test_intake_reads_only_the_issue_number() -> None:
    text = (WORKFLOWS / "intake.yml").read_text(encoding="utf-8")
    job = workflow("intake")["jobs"]["issue-to-pr"]
    assert "contains(github.event.issue.labels.*.name, 'story')" in job["if"]
    for untrusted in ("issue.body", "issue.title", "issue.user"):
        assert untrusted not in text
    (last,) = [s for s in job["steps"] if "feedback bot issue-to-pr" in str(s.get("run", ""))]
    assert last["env"]["ISSUE"] == "${{ github.event.issue.number }}"


def zizmor() -> Path:
    """zizmor from the dev extras, next to this Python."""
    beside = Path(sys.executable).parent / "zizmor"
    return beside if beside.is_file() else Path(shutil.which("zizmor") or "zizmor")


def test_zizmor_finds_nothing_of_medium_severity_or_more() -> None:
    result = subprocess.run(
        [str(zizmor()), "--offline", "--min-severity", "medium", str(ROOT / ".github")],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_the_one_accepted_finding_is_the_reviewed_workflow_run_trigger() -> None:
    config = yaml.safe_load((ROOT / ".github" / "zizmor.yml").read_text(encoding="utf-8"))
    assert config == {"rules": {"dangerous-triggers": {"ignore": ["comment.yml:16"]}}}
    line = (WORKFLOWS / "comment.yml").read_text(encoding="utf-8").splitlines()[15]
    assert line == "  workflow_run:"


def test_issue_template_and_repository_furniture() -> None:
    github = ROOT / ".github"
    owners = (github / "CODEOWNERS").read_text(encoding="utf-8")
    assert re.search(r"^/data/stories/ .*@", owners, re.M)
    assert re.search(r"^/data/moderation\.csv .*@", owners, re.M)
    dependabot = yaml.safe_load((github / "dependabot.yml").read_text(encoding="utf-8"))
    assert sorted(u["package-ecosystem"] for u in dependabot["updates"]) == [
        "github-actions",
        "npm",
        "pip",
    ]
    template = (github / "PULL_REQUEST_TEMPLATE.md").read_text(encoding="utf-8")
    assert "feedback validate" in template
    config = yaml.safe_load((github / "ISSUE_TEMPLATE" / "config.yml").read_text(encoding="utf-8"))
    assert config["blank_issues_enabled"] is True


def test_zizmor_would_catch_a_dangerous_change(tmp_path: Path) -> None:
    # The audit above can fail: the same configuration rejects a pull_request_target
    # workflow that checks out the pull request's code with a token that can write.
    github = Path(shutil.copytree(ROOT / ".github", tmp_path / ".github"))
    (github / "workflows" / "bad.yml").write_text(
        "on: pull_request_target\n"
        "permissions:\n  contents: write\n"
        "jobs:\n  bad:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n"
        "        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [str(zizmor()), "--offline", "--min-severity", "medium", str(github)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    for audit in ("dangerous-triggers", "template-injection", "artipacked"):
        assert f"[{audit}]" in result.stdout


def test_promote_keeps_the_intake_token_in_its_environment() -> None:
    job = workflow("promote")["jobs"]["promote"]
    assert job["environment"] == "private-intake"
    (last,) = [s for s in job["steps"] if "feedback bot promote" in str(s.get("run", ""))]
    assert last["env"] == {
        "GITHUB_TOKEN": "${{ secrets.FEEDBACK_INTAKE_TOKEN }}",
        "STORY": "${{ inputs.story }}",
    }
    assert last["run"] == 'feedback bot promote "$STORY"'


def _reports_script() -> str:
    (step,) = [s for _, s in steps("validate") if s.get("name") == "Write the reports"]
    return str(step["run"])


@pytest.mark.parametrize("problems", [1, 30000])
def test_the_report_step_writes_an_artifact_the_bot_accepts(tmp_path: Path, problems: int) -> None:
    from pipelines.bot.artifact import read_artifact
    from pipelines.problems import Problem, Report, render_json

    if shutil.which("jq") is None:
        from tests.conftest import skip_or_fail

        skip_or_fail("jq is not installed (GitHub's runners have it)")
    report = Report.of(
        (
            Problem(
                f"data/stories/2026/s{n:05d}.yaml", 3, "title", "too-short", "x" * 9, '"a"', "y"
            )
            for n in range(problems)
        ),
        problems,
    )
    (tmp_path / "report.json").write_text(render_json(report), encoding="utf-8")
    stub = tmp_path / "bin" / "feedback"
    stub.parent.mkdir()
    # Stands in for `feedback validate`: the JSON report for --format json, else Markdown.
    stub.write_text(
        '#!/bin/sh\ncase "$*" in *json*) cat "$REPORT";; *) echo "## report";; esac\nexit 1\n',
        encoding="utf-8",
    )
    stub.chmod(0o755)
    env = {
        "PATH": f"{stub.parent}:/usr/bin:/bin",
        "REPORT": str(tmp_path / "report.json"),
        "BASE_SHA": "9049f1265b7d61be4a8904a9a27120d2064dab3b",
        "PR_AUTHOR": "octocat",
        "PR_NUMBER": "7",
        "HEAD_SHA": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
    }
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _reports_script()],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    artifact = read_artifact(work / "report")
    assert (artifact.number, artifact.head_sha) == (7, env["HEAD_SHA"])
    assert len(artifact.report.problems) == min(problems, 2000)
    assert (work / "report" / "report.md").read_text(encoding="utf-8") == "## report\n"
