"""The site's pages as data: every page's address, template and context, planned before rendering."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pipelines.aggregate import Aggregates
from pipelines.charts import Charts
from pipelines.export.release import DataRelease
from pipelines.package import SourcePackage
from pipelines.records import Commons, ModerationEntry, Provider, Response, Story, Term
from pipelines.website.form import StoryForm, story_form

LATEST = 6  # stories on the home page
CHANGES_PER_PAGE = 50


@dataclass(frozen=True)
class Page:
    """One page to write: where, with which template, from which context."""

    save_as: str  # relative to the output folder, e.g. "providers/old-mill-surgery/index.html"
    template: str
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The page's address relative to the site root, as links use it."""
        return self.save_as.removesuffix("index.html")


@dataclass(frozen=True)
class Card:
    """A story as a card in a list: the story and what the card shows from other records.

    Pages carry in their context everything their template reads, so a page's input key
    (generator.py) covers it; cards are made once per story and shared by every list.
    """

    story: Story
    provider_name: str | None  # None when the provider is unknown
    contributor: str | None  # the contributor page's address part, None without one
    responses: int  # responses to the story


@dataclass(frozen=True)
class ChangeItem:
    """A recorded change as a list item, with the story it answered and its confirmations.

    It holds only what the item shows, so editing a response's text leaves lists of changes
    as they were.
    """

    id: str  # the response's
    provider: str
    date: dt.date
    change_status: str | None
    change_summary: str | None
    provider_name: str
    story_id: str | None  # None when the answered story is not in the commons
    story_title: str | None
    confirmations: int  # later published stories confirming it


@dataclass(frozen=True)
class SiteModel:
    """Indexes over the commons that many pages share, built once."""

    commons: Commons
    aggregates: Aggregates
    providers: dict[str, Provider]
    kinds: dict[str, Term]
    areas: dict[str, Term]
    tags: dict[str, Term]
    dimensions: dict[str, str]
    stories_by_provider: dict[str, list[Story]]
    responses_by_story: dict[str, list[Response]]
    responder_names: dict[tuple[str, str], str]
    moderation_by_story: dict[str, list[ModerationEntry]]
    confirmations_by_response: dict[str, list[Story]]
    stories: dict[str, Story]
    charts: Charts
    form: StoryForm
    responses: dict[str, Response]
    latest: list[Story]  # published, newest first
    changes: list[Response]  # responses recording a change, newest first
    stories_by_tag: dict[str, list[Story]]
    contributors: dict[str, str]  # pseudonym -> address part
    stories_by_contributor: dict[str, list[Story]]  # pseudonym -> published stories
    providers_by_kind: dict[str, list[Provider]]
    providers_by_area: dict[str, list[Provider]]
    changes_by_provider: dict[str, list[Response]]
    cards: dict[str, Card]  # published story id -> its card
    change_items: dict[str, ChangeItem]  # response id -> its item, for every recorded change
    data_release: DataRelease | None = None  # the exported package the data page describes


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug_base(text: str) -> str:
    """Readable ASCII for an address: "Zoë O'Neil" becomes "zoe-o-neil"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")[:40].strip("-") or "contributor"


def contributor_slugs(pseudonyms: Iterable[str]) -> dict[str, str]:
    """Each pseudonym's address part: readable, the same every build, unique to the pseudonym.

    The part after the last hyphen is a hash prefix, so different pseudonyms that read alike
    ("Ann", "ann", "Ann!") get different addresses; within a group that reads alike the prefix
    grows until it tells them apart, and other groups' addresses never change.
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for pseudonym in sorted(set(pseudonyms)):
        groups[slug_base(pseudonym)].append(pseudonym)
    slugs = {}
    for base, members in groups.items():
        digests = {m: hashlib.sha256(m.encode("utf-8")).hexdigest() for m in members}
        length = 6
        while len({d[:length] for d in digests.values()}) < len(members):
            length += 2
        slugs.update({m: f"{base}-{digests[m][:length]}" for m in members})
    return slugs


def change_item(
    response: Response,
    providers: dict[str, Provider],
    stories: dict[str, Story],
    confirmations: dict[str, list[Story]],
) -> ChangeItem:
    answered = stories.get(response.story)
    return ChangeItem(
        response.id,
        response.provider,
        response.date,
        response.change_status,
        response.change_summary,
        providers[response.provider].name,
        answered.id if answered else None,
        answered.title if answered else None,
        len(confirmations.get(response.id, ())),
    )


def build_model(
    commons: Commons, aggregates: Aggregates, charts: Charts, package: SourcePackage
) -> SiteModel:
    latest = sorted(
        (s for s in commons.stories if s.published), key=lambda s: (s.submitted, s.id), reverse=True
    )
    stories_by_provider: dict[str, list[Story]] = defaultdict(list)
    stories_by_tag: dict[str, list[Story]] = defaultdict(list)
    stories_by_contributor: dict[str, list[Story]] = defaultdict(list)
    for story in latest:
        stories_by_provider[story.provider].append(story)
        for tag in sorted(set(story.good) | set(story.better)):
            stories_by_tag[tag].append(story)
        stories_by_contributor[story.author_pseudonym].append(story)
    providers_by_kind: dict[str, list[Provider]] = defaultdict(list)
    providers_by_area: dict[str, list[Provider]] = defaultdict(list)
    for provider in sorted(commons.providers, key=lambda p: (p.name.lower(), p.id)):
        providers_by_kind[provider.kind].append(provider)
        providers_by_area[provider.area].append(provider)
    responses_by_story: dict[str, list[Response]] = defaultdict(list)
    for response in sorted(commons.responses, key=lambda r: (r.date, r.id)):
        responses_by_story[response.story].append(response)
    moderation: dict[str, list[ModerationEntry]] = defaultdict(list)
    for entry in sorted(commons.moderation, key=lambda m: (m.date, m.story, m.action)):
        moderation[entry.story].append(entry)
    published_ids = {s.id for s in latest}
    confirmations: dict[str, list[Story]] = defaultdict(list)
    for story in commons.stories:
        if story.published:
            for response_id in story.confirms:
                confirmations[response_id].append(story)
    changes = sorted(
        (r for r in commons.responses if r.change_status and r.story in published_ids),
        key=lambda r: (r.date, r.id),
        reverse=True,
    )
    changes_by_provider: dict[str, list[Response]] = defaultdict(list)
    for response in changes:
        changes_by_provider[response.provider].append(response)
    providers = {p.id: p for p in commons.providers}
    stories = {s.id: s for s in commons.stories}
    contributors = contributor_slugs(stories_by_contributor)
    cards = {
        story.id: Card(
            story,
            providers[story.provider].name if story.provider in providers else None,
            contributors.get(story.author_pseudonym),
            len(responses_by_story.get(story.id, ())),
        )
        for story in latest
    }
    change_items = {r.id: change_item(r, providers, stories, confirmations) for r in changes}
    return SiteModel(
        commons=commons,
        aggregates=aggregates,
        providers=providers,
        kinds={k.id: k for k in commons.kinds},
        areas={a.id: a for a in commons.areas},
        tags={t.id: t for t in commons.tags},
        dimensions={d.id: d.name for d in commons.dimensions},
        stories_by_provider=dict(stories_by_provider),
        responses_by_story=dict(responses_by_story),
        responder_names={(r.provider, r.login): r.name for r in commons.responders},
        moderation_by_story=dict(moderation),
        confirmations_by_response=dict(confirmations),
        stories=stories,
        charts=charts,
        form=story_form(commons, package),
        responses={r.id: r for r in commons.responses},
        latest=latest,
        changes=changes,
        changes_by_provider=dict(changes_by_provider),
        stories_by_tag=dict(stories_by_tag),
        contributors=contributors,
        stories_by_contributor=dict(stories_by_contributor),
        providers_by_kind=dict(providers_by_kind),
        providers_by_area=dict(providers_by_area),
        cards=cards,
        change_items=change_items,
    )


@dataclass(frozen=True)
class PageLink:
    """A link in a list's page navigation, to the page numbered target (0: the front page)."""

    label: str
    target: int
    rel: str = ""  # "prev" or "next" for the neighbours in reading order
    current: bool = False  # the page the navigation is on
    gap: bool = False  # pages are left out between this link and the one before


@dataclass(frozen=True)
class Paging:
    """Where a page sits among the pages of one list (newest first), and its navigation.

    The front page shows the newest items. The pages after it are numbered from the oldest
    and hold `size` items each, so page 1 always holds the first items: a new item changes
    the front page, and an archive page keeps its address and its bytes until its own items
    change (or, when a new archive page is made, the links of the three that were newest).
    The front page holds from `size` up to 2 * size - 1 items once there are archive pages.
    """

    number: int  # 0 for the front page, else the archive page's number
    base: str  # the front page's address, e.g. "tags/food/"
    first: int  # the page's oldest and newest items' places, counting from the oldest from 1
    last: int
    # The archive pages as far as this page's links tell (links_apart): a plain number, so
    # that a page's key spells its navigation without making its links.
    archive_pages: int

    @property
    def links(self) -> tuple[PageLink, ...]:
        """The navigation: empty when the list fits on one page."""
        return page_links(self.number, self.archive_pages)

    def href(self, target: int) -> str:
        """The address of the list's page numbered target, relative to the site root."""
        return self.base if target == 0 else f"{self.base}page/{target}/"

    @property
    def save_as(self) -> str:
        return f"{self.href(self.number)}index.html"


def archived(items: list[Any], size: int) -> list[list[Any]]:
    """Items, newest first, as the front page's and then archive page 1's, 2's, ... (Paging)."""
    archive_pages = len(items) // size - 1
    if archive_pages < 1:
        return [items]
    count = len(items)
    front = count - archive_pages * size
    return [items[:front]] + [
        items[count - number * size : count - (number - 1) * size]
        for number in range(1, archive_pages + 1)
    ]


def links_apart(number: int, archive_pages: int) -> int:
    """How many archive pages page number's links tell apart: all on the front page, and on
    an archive page at most three more than its number, past which its links are the same."""
    return archive_pages if number == 0 else min(archive_pages, number + 3)


def page_links(number: int, archive_pages: int) -> tuple[PageLink, ...]:
    """The navigation of page number (0: the front) of a list with archive_pages after the
    front: newer and older neighbours, the front page, page 1 and the two pages either side.
    An archive page's links depend on how many pages there are only when it is near the newest.
    """
    if archive_pages == 0:
        return ()
    if number == 0:
        around = range(archive_pages, max(0, archive_pages - 2), -1)
    else:
        around = range(min(archive_pages, number + 2), max(0, number - 3), -1)
    shown = [0, *around, *([] if 1 in around else [1])]
    links = []
    if number:
        newer = number + 1 if number < archive_pages else 0
        links.append(PageLink("Newer", newer, rel="prev"))
    before = None
    for target in shown:
        adjacent = before is None or target == (archive_pages if before == 0 else before - 1)
        label = "Newest" if target == 0 else f"Page {target}"
        links.append(PageLink(label, target, current=target == number, gap=not adjacent))
        before = target
    older = number - 1 if number else archive_pages
    if older:
        links.append(PageLink("Older", older, rel="next"))
    return tuple(links)


def paged(
    base: str,
    template: str,
    items: list[Any],
    size: int,
    front: dict[str, Any],
    archive: dict[str, Any],
    shown: Callable[[list[Any]], dict[str, Any]],
) -> list[Page]:
    """A list's pages: the front page at base with the front context, and archive pages at
    base/page/N/ with the archive context, which holds only what they show (page keys cover
    contexts, so the front's counts there would change every archive page with each item)."""
    batches = archived(items, size)
    pages = []
    for number, batch in enumerate(batches):
        # Archive pages hold whole pages from the oldest; the front page, the rest.
        first = (number - 1) * size + 1 if number else len(items) - len(batch) + 1
        archive_pages = links_apart(number, len(batches) - 1)
        paging = Paging(number, base, first, first + len(batch) - 1, archive_pages)
        context = front if number == 0 else archive
        pages.append(Page(paging.save_as, template, {**context, **shown(batch), "paging": paging}))
    return pages


def paginated(
    model: SiteModel,
    base: str,
    template: str,
    stories: list[Story],
    front: dict[str, Any],
    archive: dict[str, Any],
) -> list[Page]:
    """A list of stories' front page at base, and its archive pages (Paging)."""
    return paged(
        base,
        template,
        stories,
        model.commons.instance.stories_per_page,
        {**front, "story_count": len(stories)},
        archive,
        lambda batch: {"stories": [model.cards[story.id] for story in batch]},
    )


def provider_pages(model: SiteModel, provider: Provider) -> list[Page]:
    """The provider's page with its newest stories, and its archive pages of older ones."""
    archive = {"provider": provider, "feed": f"feeds/providers/{provider.id}.atom.xml"}
    return paginated(
        model,
        f"providers/{provider.id}/",
        "provider.html",
        model.stories_by_provider.get(provider.id, []),
        {
            **archive,
            "kind": model.kinds.get(provider.kind),
            "area": model.areas.get(provider.area),
            "summary": model.aggregates.providers[provider.id],
            "charts": model.charts.providers.get(provider.id, ()),
            "changes": [
                model.change_items[r.id] for r in model.changes_by_provider.get(provider.id, [])
            ],
        },
        archive,
    )


def story_page(model: SiteModel, story: Story) -> Page:
    """A published story's page, or a withdrawn story's tombstone at the same address."""
    provider = model.providers.get(story.provider)
    moderation = model.moderation_by_story.get(story.id, [])
    if not story.published:
        withdrawal = next((m for m in reversed(moderation) if m.action == "withdrawn"), None)
        return Page(
            f"stories/{story.id}/index.html",
            "tombstone.html",
            {"story": story, "provider": provider, "withdrawal": withdrawal},
        )
    responses = model.responses_by_story.get(story.id, [])
    confirmed = [model.responses[r] for r in story.confirms if r in model.responses]
    return Page(
        f"stories/{story.id}/index.html",
        "story.html",
        {
            "story": story,
            "provider": provider,
            "responses": [
                (
                    r,
                    model.responder_names.get((r.provider, r.responder), r.responder),
                    model.confirmations_by_response.get(r.id, []),
                )
                for r in responses
            ],
            # each change this story confirms, with the story it answered
            "confirmed": [
                change_item(r, model.providers, model.stories, model.confirmations_by_response)
                for r in confirmed
                if r.story in model.stories
            ],
            "moderation": [m for m in moderation if m.action != "withdrawn"],
            "contributor": model.contributors.get(story.author_pseudonym),
        },
    )


def changes_pages(model: SiteModel) -> list[Page]:
    """Every recorded change, newest first: the newest on the front page, the older on
    archive pages of CHANGES_PER_PAGE (Paging)."""
    made = sum(1 for r in model.changes if r.change_status == "made")
    return paged(
        "changes/",
        "changes.html",
        model.changes,
        CHANGES_PER_PAGE,
        {"made_count": made, "planned_count": len(model.changes) - made},
        {},
        lambda batch: {"changes": [model.change_items[r.id] for r in batch]},
    )


def provider_rows(model: SiteModel, providers: list[Provider]) -> list[tuple[Provider, Any]]:
    """Each provider with its summary, as a table of providers shows them."""
    return [(p, model.aggregates.providers[p.id]) for p in providers]


def group_pages(model: SiteModel) -> list[Page]:
    """A page per provider kind and per area: the providers index, filtered, without JavaScript."""
    pages = []
    for folder, terms, members, summaries in (
        ("kinds", model.kinds, model.providers_by_kind, model.aggregates.kinds),
        ("areas", model.areas, model.providers_by_area, model.aggregates.areas),
    ):
        for term_id, term in sorted(terms.items()):
            pages.append(
                Page(
                    f"{folder}/{term_id}/index.html",
                    "group.html",
                    {
                        "group": term,
                        "group_of": folder,
                        "providers": provider_rows(model, members.get(term_id, [])),
                        "summary": summaries[term_id],
                    },
                )
            )
    return pages


def tag_pages(model: SiteModel) -> list[Page]:
    pages = [
        Page(
            "tags/index.html",
            "tag-index.html",
            {"uses": [model.aggregates.tags[t] for t in sorted(model.tags)]},
        )
    ]
    for tag_id, tag in sorted(model.tags.items()):
        archive = {"tag": tag, "feed": f"feeds/tags/{tag_id}.atom.xml"}
        pages.extend(
            paginated(
                model,
                f"tags/{tag_id}/",
                "tag-stories.html",
                model.stories_by_tag.get(tag_id, []),
                {**archive, "use": model.aggregates.tags[tag_id]},
                archive,
            )
        )
    return pages


def contributor_pages(model: SiteModel) -> list[Page]:
    pages = []
    for pseudonym, slug in sorted(model.contributors.items(), key=lambda item: item[1]):
        stories = model.stories_by_contributor[pseudonym]
        pages.extend(
            paginated(
                model,
                f"contributors/{slug}/",
                "contributor.html",
                stories,
                {
                    "pseudonym": pseudonym,
                    "roles": sorted({s.author_role for s in stories}),
                    "provider_count": len({s.provider for s in stories}),
                    "response_count": sum(1 for s in stories if s.id in model.responses_by_story),
                },
                {"pseudonym": pseudonym},
            )
        )
    return pages


def plan_pages(model: SiteModel) -> list[Page]:
    """Every page our generator writes, in a stable order."""
    commons = model.commons
    made = [r for r in model.changes if r.change_status == "made"]
    pages = [
        Page(
            "index.html",
            "home.html",
            {
                "summary": model.aggregates.site,
                "provider_count": len(model.providers),
                "latest": [model.cards[story.id] for story in model.latest[:LATEST]],
                "changes": [model.change_items[r.id] for r in made[:3]],
                "charts": model.charts.site,
            },
        ),
        Page(
            "providers/index.html",
            "providers.html",
            {
                "providers": provider_rows(
                    model, sorted(commons.providers, key=lambda p: (p.name.lower(), p.id))
                )
            },
        ),
        Page("contribute/index.html", "contribute.html", {"form": model.form}),
        # Served for any missing address, at any depth: links must be root-relative.
        Page(
            "404.html",
            "404.html",
            {"root": urlsplit(commons.instance.site_url).path.rstrip("/") + "/"},
        ),
        # The search stage (pipelines/search.py) writes the index this page loads.
        Page("search/index.html", "search.html"),
    ]
    for provider in commons.providers:
        pages.extend(provider_pages(model, provider))
    pages.extend(story_page(model, story) for story in commons.stories)
    pages.extend(changes_pages(model))
    pages.extend(group_pages(model))
    pages.extend(tag_pages(model))
    pages.extend(contributor_pages(model))
    from pipelines.website.data_page import data_pages  # imported here: it imports this module

    pages.extend(data_pages(model))
    return pages
