"""The story issue form: generated from the schemas and lists, kept in sync, GitHub's rules kept."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from pipelines.bot.answers import parse_issue_body
from pipelines.bot.issue_form import FORM_PATH, form_text, story_form
from pipelines.cli import main
from tests.conftest import DATA, ROOT

FORM = story_form(DATA)


def body_of(element_id: str) -> dict[str, object]:
    document = yaml.safe_load((ROOT / FORM_PATH).read_text(encoding="utf-8"))
    (element,) = [e for e in document["body"] if e.get("id") == element_id]
    return element


def test_the_committed_form_is_up_to_date() -> None:
    assert (ROOT / FORM_PATH).read_text(encoding="utf-8") == form_text(DATA), (
        "run `feedback bot issue-form` and commit .github/ISSUE_TEMPLATE/story.yml"
    )


def test_form_questions_follow_the_schema_and_the_lists() -> None:
    stories = json.loads((DATA / "schemas/stories.json").read_text(encoding="utf-8"))
    role = next(f for f in stories["fields"] if f["name"] == "author.role")
    with (DATA / "providers.csv").open(encoding="utf-8") as handle:
        providers = sorted(row["id"] for row in csv.DictReader(handle))
    with (DATA / "vocabularies/dimensions.csv").open(encoding="utf-8") as handle:
        dimensions = [row["id"] for row in csv.DictReader(handle)]
    with (DATA / "vocabularies/tags.csv").open(encoding="utf-8") as handle:
        tags = sorted(row["name"] for row in csv.DictReader(handle))
    assert body_of("author-role")["attributes"]["options"] == role["constraints"]["enum"]
    assert body_of("title")["attributes"]["label"] == "Title"
    assert body_of("title")["validations"] == {"required": True}
    shown = body_of("provider")["attributes"]["options"]
    assert sorted(option.rsplit("[", 1)[1].rstrip("]") for option in shown) == providers
    assert [f.target for f in FORM.fields if f.target.startswith("ratings.")] == [
        f"ratings.{d}" for d in dimensions
    ]
    assert sorted(body_of("tags-good")["attributes"]["options"]) == tags
    assert body_of("consent")["attributes"]["options"][0]["required"] is True
    asked = {f.target for f in FORM.fields}
    assert {"id", "submitted", "status", "licence"}.isdisjoint(asked)  # the intake sets these


def test_issue_form_command_writes_and_checks(tmp_path: Path) -> None:
    runner = CliRunner()
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        stale = runner.invoke(main, ["bot", "issue-form", "--check", "--data", str(DATA)])
        wrote = runner.invoke(main, ["bot", "issue-form", "--data", str(DATA)])
        fresh = runner.invoke(main, ["bot", "issue-form", "--check", "--data", str(DATA)])
    finally:
        os.chdir(here)
    assert (stale.exit_code, stale.stderr) == (
        1,
        ".github/ISSUE_TEMPLATE/story.yml is stale: run `feedback bot issue-form`\n",
    )
    assert (wrote.exit_code, wrote.stdout) == (0, "wrote .github/ISSUE_TEMPLATE/story.yml\n")
    assert (fresh.exit_code, fresh.stdout) == (
        0,
        ".github/ISSUE_TEMPLATE/story.yml is up to date\n",
    )
    assert (tmp_path / FORM_PATH).read_text(encoding="utf-8") == form_text(DATA)


def test_form_keeps_githubs_issue_form_rules() -> None:
    # From GitHub's "Syntax for issue forms" and "Syntax for GitHub's form schema".
    document = yaml.safe_load((ROOT / FORM_PATH).read_text(encoding="utf-8"))
    assert {"name", "description", "body"} <= set(document)
    assert set(document) <= {"name", "description", "body", "title", "labels", "assignees"}
    elements = document["body"]
    asked = [e for e in elements if e["type"] != "markdown"]
    assert asked
    ids = [e["id"] for e in asked]
    labels = [e["attributes"]["label"] for e in asked]
    assert len(set(ids)) == len(ids) and len(set(labels)) == len(labels)
    for element in elements:
        assert element["type"] in {"markdown", "input", "textarea", "dropdown", "checkboxes"}
        if element["type"] == "markdown":
            assert element["attributes"]["value"] and "validations" not in element
            continue
        assert re.fullmatch(r"[A-Za-z0-9_-]+", element["id"])
        options = element["attributes"].get("options", [])
        if element["type"] == "dropdown":
            assert options and len(set(options)) == len(options)
            assert all(isinstance(o, str) and o and o != "None" for o in options)
        if element["type"] == "checkboxes":
            assert all(set(o) <= {"label", "required"} and o["label"] for o in options)


def test_past_the_dropdown_limit_the_provider_is_asked_by_id(tmp_path: Path) -> None:
    from pipelines.bot.issue_form import DROPDOWN_LIMIT

    data = Path(shutil.copytree(DATA, tmp_path / "data"))
    with (data / "providers.csv").open("a", encoding="utf-8") as handle:
        handle.writelines(
            f"gp-{n:04d},Practice {n},gp-practice,wrenford-central,,,,,,,\n"
            for n in range(DROPDOWN_LIMIT)
        )
    form = story_form(data)
    (provider,) = [f for f in form.fields if f.target == "provider"]
    assert (provider.kind, provider.options) == ("input", ())
    body = "### Provider\n\ngp-0042\n"
    assert parse_issue_body(body, form)["provider"] == "gp-0042"
