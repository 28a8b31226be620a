"""`feedback demo-data`: a deterministic synthetic instance in the real data format.

For benchmarks and tests only: every provider, person and story is invented, the instance
says so (fictional: true, a title saying synthetic), and the same seed always gives the
same bytes. The descriptor, schemas and vocabularies are copied from a real data folder, so
the synthetic files are checked by exactly the rules real ones are.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.logs import get_logger
from pipelines.package import DESCRIPTOR, read_source_package
from pipelines.yamlfile import Mapping, parse_yaml

log = get_logger(__name__)

# The last day of the synthetic data: fixed, so the output never depends on the clock.
LAST_DAY = dt.date(2026, 10, 31)
DAYS = 730
ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
SHARE_RESPONDED = 0.25
SHARE_RATED = 0.85
SHARE_WITHDRAWN = 0.01
SHARE_MODERATED = 0.005  # redacted or edited, still published
SHARE_CHANGE = 0.3  # of responses
SHARE_CONFIRMING = 0.2  # of later stories at a provider with a recorded change

_WORDS = (
    "the staff were kind and the wait was long but everyone explained what would happen next "
    # No roles (nurse, doctor): a capitalised word after one reads as a name to the validator.
    "appointment phone letter ward clinic surgery pharmacy home visit "
    "morning evening week month again always never quickly slowly clearly gently patiently "
    "listened helped waited booked called arrived left returned asked answered worried relieved "
    "grateful tired confused reassured warm cold clean busy quiet noisy friendly rushed careful "
    "medicine prescription results test scan parking bus stairs lift window chair bed meal tea "
    "my mother father son daughter partner neighbour friend carer we they she he it our their "
    "after before during because although when while until then so also still just only really"
).split()
_PLACES = (
    "Alder Ash Beck Birch Brook Cedar Clay Combe Croft Dale Elm Fen Ford Glen Hazel Heath Holm "
    "Kestrel Lark Linden Marsh Mead Mill Moor Oak Orchard Pike Quarry Reed Rowan Rye Sedge "
    "Thorn Vale Weir Willow Wren Yew"
).split()
_STREETS = ("Lane", "Road", "Street", "Green", "Hill", "Row", "Way", "Close")
_PSEUDONYMS = (
    "Local parent",
    "Regular visitor",
    "Night shift worker",
    "Worried daughter",
    "Long-time resident",
    "First-time patient",
    "Busy carer",
    "Retired teacher",
    "New to the area",
    "Grateful neighbour",
)
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .,/@()'+-]*")


@dataclass
class DemoSummary:
    """What was written, for the command's one-line result."""

    out: Path
    providers: int
    stories: int
    responses: int
    withdrawn: int
    files: int = 0


@dataclass
class _Story:
    id: str
    provider: str
    submitted: dt.date
    experienced: str
    title: str
    pseudonym: str
    role: str
    withdrawn: bool
    text: str
    ratings: list[tuple[str, int]] = field(default_factory=list)
    good: list[str] = field(default_factory=list)
    better: list[str] = field(default_factory=list)
    confirms: list[str] = field(default_factory=list)


@dataclass
class _Response:
    id: str
    story: str
    provider: str
    responder: str
    date: dt.date
    text: str
    change_status: str | None = None
    change_summary: str | None = None


def scalar(value: str) -> str:
    """A YAML scalar that reads back as exactly this text: plain when safe, else double-quoted."""
    if _PLAIN.fullmatch(value) and ": " not in value and " #" not in value:
        return value
    return json.dumps(value, ensure_ascii=False)


def block(text: str) -> str:
    """A literal block scalar body (two-space indent) for text of paragraphs."""
    return "".join(f"  {line}\n" if line else "\n" for line in text.split("\n"))


def _vocabulary(data_dir: Path, path: str) -> list[str]:
    with (data_dir / path).open(encoding="utf-8", newline="") as handle:
        return sorted(row["id"] for row in csv.DictReader(handle))


def _sentence(rng: random.Random, words: int) -> str:
    chosen = [rng.choice(_WORDS) for _ in range(words)]
    return chosen[0].capitalize() + " " + " ".join(chosen[1:]) + "."


def _paragraphs(rng: random.Random, total_words: int) -> str:
    """Plain text of about total_words words, wrapped at 76 columns, in paragraphs."""
    paragraphs = []
    left = total_words
    while left > 0:
        size = min(left, rng.randint(20, 90))
        sentences = []
        while size > 0:
            n = min(size, rng.randint(3, 16))
            sentences.append(_sentence(rng, max(n, 1)))
            size -= n
            left -= n
        lines, line = [], ""
        for word in " ".join(sentences).split():
            if line and len(line) + 1 + len(word) > 76:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs) + "\n"


def _story_words(rng: random.Random) -> int:
    # Most stories are short, a few run long: a rough log-normal, clipped to the usual limits.
    return max(5, min(600, round(rng.lognormvariate(4.3, 0.7))))


def _new_id(rng: random.Random, day: dt.date, taken: set[str]) -> str:
    while True:
        candidate = f"{day:%Y-%m-%d}-" + "".join(rng.choice(ID_ALPHABET) for _ in range(6))
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def _instance_yaml(source: Path, stories: int, providers: int, seed: int) -> str:
    root, issues = parse_yaml((source / "instance.yaml").read_text(encoding="utf-8"))
    if issues or not isinstance(root, Mapping):
        raise ValueError(f"{source / 'instance.yaml'} is not a readable instance file")
    values = {k: v for k, v in root.items.items() if isinstance(v, str)}
    values.update(
        title="Synthetic Feedback Commons",
        place="Synthetica",
        fictional="true",
        description=(
            f"Synthetic data for benchmarks and tests: {stories} invented stories about "
            f"{providers} invented providers, generated with seed {seed}. Not real feedback; "
            "never publish it as such."
        ),
    )
    header = (
        "# Synthetic instance written by `feedback demo-data`: for benchmarks and tests only.\n"
    )
    return header + "".join(f"{key}: {scalar(value)}\n" for key, value in values.items())


def _csv(header: list[str], rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _story_yaml(story: _Story, licence: str) -> str:
    lines = [
        f"id: {story.id}",
        f"provider: {story.provider}",
        f"title: {scalar(story.title)}",
        f"experienced: {story.experienced}",
        f"submitted: {story.submitted:%Y-%m-%d}",
        "author:",
        f"  pseudonym: {scalar(story.pseudonym)}",
        f"  role: {story.role}",
    ]
    if story.ratings:
        lines.append("ratings:")
        lines.extend(f"  {dimension}: {score}" for dimension, score in story.ratings)
    if story.good or story.better:
        lines.append("tags:")
        if story.good:
            lines.append(f"  good: [{', '.join(story.good)}]")
        if story.better:
            lines.append(f"  better: [{', '.join(story.better)}]")
    if story.confirms:
        lines.append(f"confirms: [{', '.join(story.confirms)}]")
    lines += [
        f"status: {'withdrawn' if story.withdrawn else 'published'}",
        f"licence: {licence}",
        "consent: true",
    ]
    text = "\n".join(lines) + "\n"
    if not story.withdrawn:
        text += "story: |\n" + block(story.text)
    return text


def _response_yaml(response: _Response) -> str:
    text = (
        f"id: {response.id}\n"
        f"story: {response.story}\n"
        f"provider: {response.provider}\n"
        f"responder: {response.responder}\n"
        f"date: {response.date:%Y-%m-%d}\n"
        "text: |\n" + block(response.text)
    )
    if response.change_status:
        text += (
            f"change:\n  status: {response.change_status}\n"
            f"  summary: {scalar(response.change_summary or '')}\n"
        )
    return text


def write_demo_data(
    out: Path, stories: int, providers: int, seed: int, source: Path = Path("data")
) -> DemoSummary:
    """Write a synthetic instance of stories about providers into out (which must not exist)."""
    if stories < 1 or providers < 1:
        raise ValueError("give at least one story and one provider")
    if out.exists():
        raise FileExistsError(f"{out} already exists: choose a new folder for the synthetic data")
    package = read_source_package(source)
    rng = random.Random(seed)
    out.mkdir(parents=True)
    shutil.copy(source / DESCRIPTOR, out / DESCRIPTOR)
    shutil.copytree(source / "schemas", out / "schemas")
    shutil.copytree(source / "vocabularies", out / "vocabularies")
    areas = _vocabulary(out, package.table("areas").path)
    kinds = _vocabulary(out, package.table("provider-kinds").path)
    dimensions = _vocabulary(out, package.table("dimensions").path)
    tags = _vocabulary(out, package.table("tags").path)
    stories_table = package.table("stories")
    roles = list(stories_table.field("author.role")["constraints"]["enum"])
    moderation_table = package.table("moderation")
    reasons = list(moderation_table.field("reason")["constraints"]["enum"])
    actions = list(moderation_table.field("action")["constraints"]["enum"])
    others = [d for d in dimensions if d != "overall"]
    (out / "instance.yaml").write_text(
        _instance_yaml(source, stories, providers, seed), encoding="utf-8"
    )
    licence_root, _ = parse_yaml((out / "instance.yaml").read_text(encoding="utf-8"))
    assert isinstance(licence_root, Mapping)
    licence = str(licence_root.items["licence"])

    provider_rows, responder_rows, provider_ids = [], [], []
    digits = len(str(providers))
    for number in range(1, providers + 1):
        kind = kinds[(number - 1) % len(kinds)]
        place = f"{rng.choice(_PLACES)} {rng.choice(_PLACES)}"
        provider_id = f"synthetic-{kind}-{number:0{digits}d}"
        provider_ids.append(provider_id)
        provider_rows.append(
            {
                "id": provider_id,
                "name": f"{place} {kind.replace('-', ' ')} {number}".capitalize(),
                "kind": kind,
                "area": rng.choice(areas),
                "address": f"{rng.randint(1, 200)} {rng.choice(_PLACES)} {rng.choice(_STREETS)}",
                "latitude": f"{rng.uniform(50.0, 55.0):.4f}",
                "longitude": f"{rng.uniform(-4.0, 1.0):.4f}",
            }
        )
        responder_rows.append(
            {"provider": provider_id, "login": f"synthetic-team-{number}", "name": f"{place} team"}
        )
    logins = {row["provider"]: row["login"] for row in responder_rows}
    (out / package.table("providers").path).write_text(
        _csv(package.table("providers").field_names, provider_rows), encoding="utf-8"
    )
    (out / package.table("responders").path).write_text(
        _csv(package.table("responders").field_names, responder_rows), encoding="utf-8"
    )

    # Providers get stories unevenly, as real ones do: a few busy ones, a long quiet tail.
    weights = [1.0 / (rank**0.6) for rank in range(1, providers + 1)]
    rng.shuffle(weights)
    chosen = rng.choices(provider_ids, weights, k=stories)
    story_ids: set[str] = set()
    story_list: list[_Story] = []
    first_day = LAST_DAY - dt.timedelta(days=DAYS)
    for provider_id in chosen:
        submitted = first_day + dt.timedelta(days=rng.randint(0, DAYS))
        back = rng.choice((0, 0, 0, 1, 1, 2, 3))
        month_index = submitted.year * 12 + submitted.month - 1 - back
        withdrawn = rng.random() < SHARE_WITHDRAWN
        story = _Story(
            id=_new_id(rng, submitted, story_ids),
            provider=provider_id,
            submitted=submitted,
            experienced=f"{month_index // 12:04d}-{month_index % 12 + 1:02d}",
            title=_sentence(rng, rng.randint(3, 9)).rstrip("."),
            pseudonym=rng.choice(_PSEUDONYMS),
            role=rng.choice(roles),
            withdrawn=withdrawn,
            text="" if withdrawn else _paragraphs(rng, _story_words(rng)),
        )
        if rng.random() < SHARE_RATED:
            overall = rng.choices((1, 2, 3, 4, 5), (8, 8, 14, 30, 40))[0]
            story.ratings.append(("overall", overall))
            for dimension in others:
                if rng.random() < 0.6:
                    story.ratings.append((dimension, max(1, min(5, overall + rng.randint(-1, 1)))))
            story.ratings.sort()
        story.good = sorted(rng.sample(tags, rng.randint(0, 3)))
        story.better = sorted(
            rng.sample([t for t in tags if t not in story.good], rng.randint(0, 2))
        )
        story_list.append(story)
    story_list.sort(key=lambda s: s.id)

    response_ids: set[str] = set()
    responses: list[_Response] = []
    changes_by_provider: dict[str, list[_Response]] = defaultdict(list)
    for story in story_list:
        if story.withdrawn or rng.random() >= SHARE_RESPONDED:
            continue
        date = min(story.submitted + dt.timedelta(days=rng.randint(0, 40)), LAST_DAY)
        response = _Response(
            id=_new_id(rng, date, response_ids),
            story=story.id,
            provider=story.provider,
            responder=logins[story.provider],
            date=date,
            text=_paragraphs(rng, rng.randint(15, 150)),
        )
        if rng.random() < SHARE_CHANGE:
            response.change_status = rng.choice(("planned", "made"))
            response.change_summary = _sentence(rng, rng.randint(8, 25))
            changes_by_provider[story.provider].append(response)
        responses.append(response)
    for story in story_list:
        earlier = [
            r for r in changes_by_provider.get(story.provider, []) if r.date < story.submitted
        ]
        if not story.withdrawn and earlier and rng.random() < SHARE_CONFIRMING:
            story.confirms = [rng.choice(earlier).id]

    moderation_rows = []
    for story in story_list:
        if story.withdrawn:
            action, note = "withdrawn", "Withdrawn at the request of the synthetic contributor."
        elif rng.random() < SHARE_MODERATED:
            action = rng.choice([a for a in actions if a != "withdrawn"])
            note = "A synthetic moderation entry."
        else:
            continue
        moderation_rows.append(
            {
                "date": f"{min(story.submitted + dt.timedelta(days=rng.randint(1, 30)), LAST_DAY):%Y-%m-%d}",
                "story": story.id,
                "action": action,
                "reason": rng.choice(reasons),
                "moderator": "synthetic-moderator",
                "note": note,
            }
        )
    moderation_rows.sort(key=lambda row: (row["date"], row["story"], row["action"]))
    (out / moderation_table.path).write_text(
        _csv(moderation_table.field_names, moderation_rows), encoding="utf-8"
    )

    files = 0
    for story in story_list:
        folder = out / stories_table.path / story.id[:4]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{story.id}.yaml").write_text(_story_yaml(story, licence), encoding="utf-8")
        files += 1
    responses_path = package.table("responses").path
    for response in responses:
        folder = out / responses_path / response.id[:4]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{response.id}.yaml").write_text(_response_yaml(response), encoding="utf-8")
        files += 1
    withdrawn_count = sum(s.withdrawn for s in story_list)
    log.info("wrote %d stories and %d responses into %s", len(story_list), len(responses), out)
    return DemoSummary(out, providers, len(story_list), len(responses), withdrawn_count, files)


def add_story(data_dir: Path, suffix: str) -> str:
    """Add one new published story (fresh text, id ending in suffix) to a synthetic instance.

    It copies the newest published story's provider, dates and ratings, so it is valid
    wherever that story is; benchmarks and tests use it as "one new story".
    """
    if not re.fullmatch(r"[a-z0-9]{6}", suffix):
        raise ValueError("the suffix is six lower-case letters or digits")
    marker = "story: |\n"
    for path in sorted((data_dir / "stories").rglob("*.yaml"), key=lambda p: p.name, reverse=True):
        text = path.read_text(encoding="utf-8")
        if "status: published" not in text or marker not in text:
            continue
        new_id = f"{path.stem[:10]}-{suffix}"
        rng = random.Random(new_id)
        head = text[: text.index(marker)].replace(f"id: {path.stem}\n", f"id: {new_id}\n", 1)
        body = block(_paragraphs(rng, _story_words(rng)))
        target = path.with_name(f"{new_id}.yaml")
        target.write_text(head + marker + body, encoding="utf-8")
        return new_id
    raise ValueError(f"{data_dir} has no published story to model a new one on")
