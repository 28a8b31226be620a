"""The share-a-story form: built from the schemas, and its story files pass validation."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from pipelines.load import load_dataset
from pipelines.package import read_source_package
from pipelines.validate import validate_dataset
from pipelines.website.form import story_form
from tests.conftest import DATA, ROOT

NODE = shutil.which("node")


def contribute(site: Path) -> BeautifulSoup:
    return BeautifulSoup(
        (site / "contribute/index.html").read_text(encoding="utf-8"), "html.parser"
    )


def test_form_fields_come_from_the_schema(sample_site: Path) -> None:
    package = read_source_package(DATA)
    stories = package.table("stories")
    soup = contribute(sample_site)
    title = stories.field("title")["constraints"]
    field = soup.select_one("#story-title")
    assert (field["minlength"], field["maxlength"], "required" in field.attrs) == (
        str(title["minLength"]),
        str(title["maxLength"]),
        True,
    )
    roles = [i["value"] for i in soup.select("input[name='author.role']")]
    assert roles == stories.field("author.role")["constraints"]["enum"]
    assert soup.select_one("#story-title-hint").get_text() == stories.field("title")["description"]
    providers = [o["value"] for o in soup.select("#story-provider option") if o["value"]]
    assert sorted(providers) == ["brook-surgery", "hill-ward", "town-library"]
    scores = [i["value"] for i in soup.select("input[name='ratings.overall']")]
    assert scores == ["", "1", "2", "3", "4", "5"]
    assert [i["value"] for i in soup.select("input[name='tags.good']")] == [
        "booking",
        "food",
        "privacy-and-dignity",
        "staff-attitude",
        "waiting-times",
    ]
    # Every control has a label, and the form waits for its script.
    for control in soup.select("#story-form input, #story-form select, #story-form textarea"):
        assert soup.select_one(f"label[for='{control['id']}']"), control["id"]
    assert "hidden" in soup.select_one("[data-story-form]").attrs


def test_without_javascript_a_template_and_private_routes_are_offered(sample_site: Path) -> None:
    soup = contribute(sample_site)
    assert len(soup.select("h1")) == 1
    template = soup.select_one(".template pre").get_text()
    assert (
        "\nprovider:\n" in template and "story: |" in template and "licence: CC-BY-4.0" in template
    )
    private = soup.select_one("#private").parent
    assert [a["href"] for a in private.select("a")] == [
        "mailto:intake@sample.example",
        "https://github.com/example/sample-intake/issues/new",
    ]
    config = json.loads(soup.select_one("#story-form-config").get_text())
    assert (config["repository"], config["branch"], config["files"]) == (
        "example/sample",
        "main",
        "stories/{year}/{id}.yaml",
    )


def test_one_contribute_page(sample_site: Path) -> None:
    assert not (ROOT / "content/pages/contribute.md").exists()
    assert contribute(sample_site).select_one("h1").get_text() == "Share your story"


NASTY = [
    ("A plain title", "Plain words in a plain story.", "Ann"),
    (
        "</script><script>alert(1)</script>",
        "<b>bold</b> & {{ config }}\n\nsecond: paragraph # not a comment\n- not a list",
        "Zoë O'Neil",
    ),
    ('"quoted": yes', "  starts with spaces\nthen\ttab", "null"),
    ("123", "yes", "true"),
]


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run the form's script")
@pytest.mark.parametrize(("title", "text", "pseudonym"), NASTY)
def test_the_form_script_writes_a_valid_story(
    sample: Path, title: str, text: str, pseudonym: str
) -> None:
    commons = validate_dataset(load_dataset(sample)).commons
    assert commons is not None
    form = story_form(commons, read_source_package(sample))
    config = json.loads(str(form.config).replace("\\u003c", "<").replace("\\u003e", ">"))
    story_id = "2026-04-02-abc123"
    answers = {
        **config["fixed"],
        "id": story_id,
        "provider": "hill-ward",
        "title": title,
        "experienced": "2026-03",
        "submitted": "2026-04-02",
        "author.pseudonym": pseudonym,
        "author.role": "carer",
        "consent": True,
        "story": text + " and enough words here",
    }
    request = {
        "config": config,
        "answers": answers,
        "ratings": {"overall": 4, "respect": 5},
        "tags": {"good": ["food"], "better": []},
    }
    result = subprocess.run(
        [NODE or "node", "--no-warnings", str(ROOT / "tests/story_file.mjs")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    )
    path = sample / "stories/2026" / f"{story_id}.yaml"
    path.write_text(result.stdout, encoding="utf-8")
    validation = validate_dataset(load_dataset(sample))
    assert [p.code for p in validation.report.errors] == []
    assert validation.commons is not None
    (story,) = [s for s in validation.commons.stories if s.id == story_id]
    assert (story.title, story.author_pseudonym, story.ratings, story.good) == (
        title,
        pseudonym,
        {"overall": 4, "respect": 5},
        ("food",),
    )
    assert (story.story or "").split() == answers["story"].split()
