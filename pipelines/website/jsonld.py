"""schema.org JSON-LD for provider and story pages, as plain dicts (templates serialise them).

Templates pass the result through the script_json filter, which escapes <, > and & so that
contributor text cannot end the <script> element it sits in.
"""

from __future__ import annotations

from typing import Any

from pipelines.aggregate import Summary
from pipelines.records import Instance, Provider, Story

CONTEXT = "https://schema.org"
BEST, WORST = 5, 1


def absolute(instance: Instance, address: str) -> str:
    """A site address ("providers/x/") as an absolute URL under the instance's site_url."""
    return f"{instance.site_url.rstrip('/')}/{address}"


def organization(provider: Provider, instance: Instance) -> dict[str, Any]:
    """The provider as a schema.org Organization, without ratings."""
    item: dict[str, Any] = {
        "@type": "Organization",
        "@id": absolute(instance, f"providers/{provider.id}/#organization"),
        "name": provider.name,
        "url": absolute(instance, f"providers/{provider.id}/"),
    }
    if provider.address or provider.postcode:
        address: dict[str, Any] = {"@type": "PostalAddress"}
        if provider.address:
            address["streetAddress"] = provider.address
        if provider.postcode:
            address["postalCode"] = provider.postcode
        item["address"] = address
    if provider.part_of:
        item["parentOrganization"] = {"@type": "Organization", "name": provider.part_of}
    if provider.identifier:
        item["identifier"] = provider.identifier
    if provider.website and provider.website.lower().startswith(("https://", "http://")):
        item["sameAs"] = provider.website
    if provider.latitude is not None and provider.longitude is not None:
        item["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": provider.latitude,
            "longitude": provider.longitude,
        }
    return item


def provider_ld(provider: Provider, summary: Summary, instance: Instance) -> dict[str, Any]:
    """A provider page's Organization, with an AggregateRating only once ratings are shown."""
    item = {"@context": CONTEXT, **organization(provider, instance)}
    if summary.shown and summary.mean is not None:
        item["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": summary.mean,
            "ratingCount": summary.ratings,
            "reviewCount": summary.stories,
            "bestRating": BEST,
            "worstRating": WORST,
        }
    return item


def story_ld(story: Story, provider: Provider, instance: Instance) -> dict[str, Any]:
    """A story page's Review of the provider, by the contributor's pseudonym."""
    url = absolute(instance, f"stories/{story.id}/")
    item: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "Review",
        "@id": url,
        "url": url,
        "name": story.title,
        "author": {"@type": "Person", "name": story.author_pseudonym},
        "datePublished": story.submitted.isoformat(),
        "itemReviewed": organization(provider, instance),
        "license": instance.licence_url,
        "inLanguage": instance.language,
        "publisher": {"@type": "Organization", "name": instance.title, "url": instance.site_url},
    }
    if story.story:
        item["reviewBody"] = story.story
    overall = story.ratings.get("overall")
    if overall is not None:
        item["reviewRating"] = {
            "@type": "Rating",
            "ratingValue": overall,
            "bestRating": BEST,
            "worstRating": WORST,
        }
    return item
