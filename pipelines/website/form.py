"""The share-a-story form, described from the schemas and vocabularies (never restated here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.package import SourcePackage
from pipelines.records import Commons, Dimension, Provider, Term
from pipelines.website.filters import script_json

# The repository folder that holds the data package: the layout every instance shares.
REPOSITORY_DATA_FOLDER = "data"
# Fields the form fills in itself rather than asking for.
FILLED_IN = ("id", "submitted", "status", "licence", "consent", "submitted_via")
PUBLISHED = "published"  # the status of a story the site shows (records.Story.published)


@dataclass(frozen=True)
class FormField:
    """One story field as its Table Schema describes it."""

    name: str  # "author.pseudonym"
    title: str
    description: str
    kind: str  # the schema type: string, date, yearmonth, boolean
    required: bool
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    enum: tuple[Any, ...] = ()
    min_value: int | None = None
    max_value: int | None = None

    @property
    def html_id(self) -> str:
        return "story-" + self.name.replace(".", "-")


@dataclass(frozen=True)
class StoryForm:
    fields: dict[str, FormField]  # the stories table's fields, in schema order
    areas: tuple[tuple[Term, tuple[Provider, ...]], ...]  # providers grouped by area
    dimensions: tuple[Dimension, ...]
    score: FormField  # the ratings table's score: its range and meaning
    tag_kind: FormField  # the story-tags table's kind: good, better
    tags: tuple[Term, ...]
    files: str  # where a story file goes inside the data folder: "stories/{year}/{id}.yaml"
    template: str  # a story file to copy and fill in, for readers without JavaScript
    config: str  # what the form's script needs, as JSON safe inside a <script> element

    @property
    def asked(self) -> list[FormField]:
        """The fields a contributor fills in, in schema order."""
        return [f for f in self.fields.values() if f.name not in FILLED_IN]


def form_field(schema_field: dict[str, Any]) -> FormField:
    constraints = schema_field.get("constraints", {})
    return FormField(
        name=schema_field["name"],
        title=schema_field.get("title", schema_field["name"]),
        description=schema_field.get("description", ""),
        kind=schema_field.get("type", "string"),
        required=bool(constraints.get("required", False)),
        min_length=constraints.get("minLength"),
        max_length=constraints.get("maxLength"),
        pattern=constraints.get("pattern"),
        enum=tuple(constraints.get("enum", ())),
        min_value=constraints.get("minimum"),
        max_value=constraints.get("maximum"),
    )


def _comment(text: str) -> list[str]:
    return [f"# {line}" for line in text.splitlines() if line.strip()]


def story_template(form: dict[str, FormField], commons: Commons, child: dict[str, str]) -> str:
    """A story file with every field explained by its schema description."""
    placeholders = {
        "date": "YYYY-MM-DD",
        "yearmonth": "YYYY-MM",
        "boolean": "true",
    }
    lines = [
        f"# A story for {commons.instance.title}. Lines starting with # are notes: leave them or",
        "# delete them. Replace every value after a colon with your own.",
    ]
    fixed = {
        "id": "YYYY-MM-DD-abc123",
        "status": PUBLISHED,
        "licence": commons.instance.licence,
    }
    nested_open = ""
    for field in form.values():
        if field.name == "story":
            continue  # last, as a block of text
        if field.name == "submitted_via":
            continue  # moderators set it for stories that arrive privately
        value = fixed.get(field.name) or placeholders.get(field.kind, "")
        if field.enum:
            value = str(field.enum[0]).lower() if field.kind == "boolean" else str(field.enum[0])
        head, _, leaf = field.name.rpartition(".")
        indent = "  " if head else ""
        if head and head != nested_open:
            lines.append(f"{head}:")
            nested_open = head
        comments = _comment(field.description)
        if field.enum and field.kind != "boolean":
            comments.append("# One of: " + ", ".join(str(e) for e in field.enum) + ".")
        lines.extend(indent + c for c in comments)
        if field.required or field.name in fixed:
            lines.append(f"{indent}{leaf}: {value}".rstrip())
        else:
            lines.append(f"{indent}# {leaf}: (optional: remove the # to use it)")
    lines.extend(_comment(child["ratings"]))
    lines.extend(_comment(child["score"]))
    lines.append("ratings:")
    for dimension in commons.dimensions:
        if dimension.id == "overall":
            lines.append(f"  {dimension.id}: 3  # {dimension.question}")
        else:
            lines.append(f"  # {dimension.id}: 3  # {dimension.question}")
    lines.extend(_comment(child["tags"]))
    lines.append("# Tags: " + ", ".join(t.id for t in commons.tags) + ".")
    lines.append("tags:")
    lines.extend(["  good: []", "  better: []"])
    story = form.get("story")
    if story:
        lines.extend(_comment(story.description))
        lines.extend(
            ["story: |", "  What happened, in your own words.", "", "  Another paragraph."]
        )
    return "\n".join(lines) + "\n"


def story_form(commons: Commons, package: SourcePackage) -> StoryForm:
    """The form's fields, choices and limits, all from the schemas, providers and vocabularies."""
    stories = package.table("stories")
    fields = {f["name"]: form_field(f) for f in stories.fields}
    score = form_field(package.table("ratings").field("score"))
    tag_kind = form_field(package.table("story-tags").field("kind"))
    by_area: dict[str, list[Provider]] = {a.id: [] for a in commons.areas}
    for provider in sorted(commons.providers, key=lambda p: (p.name.lower(), p.id)):
        by_area.setdefault(provider.area, []).append(provider)
    areas = tuple(
        (area, tuple(by_area[area.id]))
        for area in sorted(commons.areas, key=lambda a: a.name.lower())
        if by_area.get(area.id)
    )
    (resource,) = [r for r in package.descriptor["resources"] if r["name"] == "stories"]
    story_files = str(resource["feedback:files"])
    child = {
        "ratings": package.table("ratings").schema.get("description", ""),
        "tags": package.table("story-tags").schema.get("description", ""),
        "score": score.description,
    }
    instance = commons.instance
    via = fields.get("submitted_via")
    config = {
        "repository": instance.repository,
        "branch": instance.branch,
        "licence": instance.licence,
        "intakeEmail": instance.intake_email or "",
        "intakeRepository": instance.intake_repository or "",
        "dataFolder": REPOSITORY_DATA_FOLDER,
        "files": story_files,
        "idPattern": fields["id"].pattern or "",
        "fields": [
            {"name": f.name, "type": f.kind, "required": f.required} for f in fields.values()
        ],
        # The fields the form fills in itself, and the one written as a block of text.
        "fixed": {"status": PUBLISHED, "licence": instance.licence},
        "idField": "id",
        "dateField": "submitted",
        "consentField": "consent",
        "viaField": "submitted_via",
        "textField": "story",
        # As the missing-overall-rating rule says: any rating needs this one too.
        "requiredDimension": "overall",
        "dimensions": [d.id for d in commons.dimensions],
        "tagKinds": list(tag_kind.enum),
        "privateVia": "private-intake" if via and "private-intake" in via.enum else "",
        "title": instance.title,
    }
    return StoryForm(
        fields=fields,
        areas=areas,
        dimensions=commons.dimensions,
        score=score,
        tag_kind=tag_kind,
        tags=commons.tags,
        files=story_files,
        template=story_template(fields, commons, child),
        config=script_json(config),
    )
