"""The site's pages as data: every page's address, template and context, planned before rendering."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pipelines.aggregate import Aggregates
from pipelines.records import Commons, ModerationEntry, Provider, Response, Story, Term


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


def build_model(commons: Commons, aggregates: Aggregates) -> SiteModel:
    stories_by_provider: dict[str, list[Story]] = defaultdict(list)
    for story in sorted(commons.stories, key=lambda s: (s.submitted, s.id), reverse=True):
        if story.published:
            stories_by_provider[story.provider].append(story)
    responses_by_story: dict[str, list[Response]] = defaultdict(list)
    for response in sorted(commons.responses, key=lambda r: (r.date, r.id)):
        responses_by_story[response.story].append(response)
    moderation: dict[str, list[ModerationEntry]] = defaultdict(list)
    for entry in sorted(commons.moderation, key=lambda m: (m.date, m.story, m.action)):
        moderation[entry.story].append(entry)
    confirmations: dict[str, list[Story]] = defaultdict(list)
    for story in commons.stories:
        if story.published:
            for response_id in story.confirms:
                confirmations[response_id].append(story)
    return SiteModel(
        commons=commons,
        aggregates=aggregates,
        providers={p.id: p for p in commons.providers},
        kinds={k.id: k for k in commons.kinds},
        areas={a.id: a for a in commons.areas},
        tags={t.id: t for t in commons.tags},
        dimensions={d.id: d.name for d in commons.dimensions},
        stories_by_provider=dict(stories_by_provider),
        responses_by_story=dict(responses_by_story),
        responder_names={(r.provider, r.login): r.name for r in commons.responders},
        moderation_by_story=dict(moderation),
        confirmations_by_response=dict(confirmations),
        stories={s.id: s for s in commons.stories},
    )


def _pages_of(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def provider_pages(model: SiteModel, provider: Provider) -> list[Page]:
    """The provider's page, and a further page for each further batch of stories."""
    stories = model.stories_by_provider.get(provider.id, [])
    batches = _pages_of(stories, model.commons.instance.stories_per_page)
    base = f"providers/{provider.id}/"
    pages = []
    for number, batch in enumerate(batches, start=1):
        save_as = f"{base}index.html" if number == 1 else f"{base}page/{number}/index.html"
        pages.append(
            Page(
                save_as,
                "provider.html",
                {
                    "provider": provider,
                    "kind": model.kinds.get(provider.kind),
                    "area": model.areas.get(provider.area),
                    "summary": model.aggregates.providers[provider.id],
                    "stories": batch,
                    "page_number": number,
                    "page_count": len(batches),
                    "page_base": base,
                    "responses_by_story": model.responses_by_story,
                },
            )
        )
    return pages


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
            "confirmed": [model.stories[r] for r in story.confirms if r in model.stories],
            "moderation": [m for m in moderation if m.action != "withdrawn"],
        },
    )


def plan_pages(model: SiteModel) -> list[Page]:
    """Every page our generator writes, in a stable order."""
    commons = model.commons
    latest = sorted(
        (s for s in commons.stories if s.published), key=lambda s: (s.submitted, s.id), reverse=True
    )
    pages = [
        Page("index.html", "home.html", {"summary": model.aggregates.site, "latest": latest[:6]}),
        Page(
            "providers/index.html",
            "providers.html",
            {"providers": sorted(commons.providers, key=lambda p: (p.name.lower(), p.id))},
        ),
        # Served for any missing address, at any depth: links must be root-relative.
        Page(
            "404.html",
            "404.html",
            {"root": urlsplit(commons.instance.site_url).path.rstrip("/") + "/"},
        ),
    ]
    for provider in commons.providers:
        pages.extend(provider_pages(model, provider))
    pages.extend(story_page(model, story) for story in commons.stories)
    return pages
