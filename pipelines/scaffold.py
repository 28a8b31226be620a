"""`feedback new story`: a new story file with a fresh id, its fields explained from the schema."""

from __future__ import annotations

import datetime as dt
import secrets
import string
from pathlib import Path

from pipelines.load import ReadIssue, display_path, read_csv_table
from pipelines.package import read_source_package

ID_ALPHABET = string.ascii_lowercase + string.digits


class ScaffoldError(Exception):
    """The story cannot be started as asked (unknown provider, say)."""


def new_story_id(today: dt.date) -> str:
    """The submission date and six random letters or digits: unique without coordination."""
    return f"{today:%Y-%m-%d}-" + "".join(secrets.choice(ID_ALPHABET) for _ in range(6))


def _comment(text: str) -> str:
    return "\n".join(f"# {line}" for line in text.splitlines())


def story_template(
    data_dir: Path, provider: str, title: str | None, story_id: str, today: dt.date
) -> str:
    package = read_source_package(data_dir)
    issues: list[ReadIssue] = []
    shown = display_path(data_dir)
    providers, _ = read_csv_table(data_dir, shown, package.table("providers"), issues)
    known = {str(row["id"]): str(row["name"]) for row in providers.rows if row["id"]}
    if provider not in known:
        import difflib

        near = difflib.get_close_matches(provider, list(known), n=1)
        hint = f' (did you mean "{near[0]}"?)' if near else ""
        raise ScaffoldError(
            f'unknown provider "{provider}"{hint}: use an id from {shown}/providers.csv'
        )
    dimensions, _ = read_csv_table(data_dir, shown, package.table("dimensions"), issues)
    stories = package.table("stories")
    describe = {f["name"]: f.get("description", "") for f in stories.fields}
    ratings = "\n".join(
        f"  # {row['id']}: 1-5   ({row['question']})"
        for row in dimensions.rows
        if row["id"] != "overall"
    )
    quoted_title = (title or "A short title in your own words").replace('"', "'")
    return f"""# A new story about {known[provider]}. Fill in each field; lines starting # are notes.
{_comment(describe["id"])}
id: {story_id}
provider: {provider}
{_comment(describe["service"])}
service:
title: "{quoted_title}"
{_comment(describe["experienced"])}
experienced: {today:%Y-%m}
submitted: {today:%Y-%m-%d}
author:
  {_comment(describe["author.pseudonym"])}
  pseudonym:
  {_comment(describe["author.role"])} One of: patient, carer, relative, staff, other.
  role: patient
# Ratings are whole numbers from 1 (very poor) to 5 (excellent). If you rate
# anything, rate overall too. Remove the # before a line to rate that dimension.
ratings:
  overall: 3
{ratings}
# Tags from vocabularies/tags.csv: good for what went well, better for what could be better.
tags:
  good: []
  better: []
status: published
licence: {_licence(data_dir)}
{_comment(describe["consent"])}
consent: true
{_comment(describe["story"])}
story: |
  Your story, in your own words.
"""


def _licence(data_dir: Path) -> str:
    for line in (data_dir / "instance.yaml").read_text(encoding="utf-8").splitlines():
        if line.startswith("licence:"):
            return line.split(":", 1)[1].strip()
    return "CC-BY-4.0"


def new_story_file(
    data_dir: Path, provider: str, title: str | None, today: dt.date | None = None
) -> Path:
    """Write the template to data/stories/<year>/<id>.yaml and return its path."""
    today = today or dt.date.today()
    story_id = new_story_id(today)
    text = story_template(data_dir, provider, title, story_id, today)
    path = data_dir / "stories" / f"{today:%Y}" / f"{story_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:  # never overwrite a story
        handle.write(text)
    return path
