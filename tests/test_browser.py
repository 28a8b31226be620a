"""The built site in Debian's chromium: accessibility, valid HTML, no third-party requests,
no script from contributor text, readable without JavaScript, and search, offline.

The sample instance plus one story and one response made of XSS payloads is built once per
session and served from 127.0.0.1 under a sub-path, as on GitHub Pages. Every page type is
found in the built site itself, so a new kind of page is covered without touching this file.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pipelines import search
from pipelines.build import build_all
from tests.conftest import ROOT, SETTINGS, make_instance, skip_or_fail

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = (375, 1280)
PREFIX = "/commons/"  # the site is served below the domain's root, as GitHub Pages does
# Folders whose pages are one item each (their index page lists them).
ITEMS = {
    "areas": "area",
    "contributors": "contributor",
    "kinds": "kind",
    "providers": "provider",
    "stories": "story",
    "tags": "tag",
}

XSS_ID = "2026-02-15-xss001"
XSS_TITLE = "<img src=x onerror=alert(1)>"
XSS_STORY = f"""\
id: {XSS_ID}
provider: brook-surgery
service: "</script><script>alert(2)</script>"
title: "{XSS_TITLE}"
experienced: 2026-01
submitted: 2026-02-15
author:
  pseudonym: "\\"><svg onload=alert(3)>"
  role: patient
ratings:
  overall: 3
tags:
  good: [staff-attitude]
status: published
licence: CC-BY-4.0
consent: true
story: |
  Payloads that must stay text: </script><script>alert(4)</script> and
  <a href="javascript:alert(5)">a link</a> and javascript:alert(6) and {{{{ 7*7 }}}}.

  ]]></content><script>alert(7)</script> "}}</script><script>alert(8)</script> zanzibar
"""
# Eight more stories about the same provider (twelve in all, five a page) give its page
# an archive page of older stories.
MORE_STORY = """\
id: 2026-02-{day}-more{day}
provider: brook-surgery
title: Booked in for a blood test
experienced: 2026-02
submitted: 2026-02-{day}
author:
  pseudonym: Sample Nine
  role: patient
status: published
licence: CC-BY-4.0
consent: true
story: |
  The blood test on {day} February took five minutes and the nurse explained everything.
"""
XSS_RESPONSE = f"""\
id: 2026-02-16-xssre1
story: {XSS_ID}
provider: brook-surgery
responder: brook-manager
date: 2026-02-16
text: |
  Thank you <script>alert(9)</script> <img src=y onerror=alert(10)> for telling us.
change:
  status: made
  summary: "<svg onload=alert(11)> the door is fixed"
"""
XSS_WEBSITE = "https://brook.example/?a=1&b='onmouseover='alert(12)"
# Replaces the page's dialogs before any of its own script runs; a payload that ran calls them.
HOOK_DIALOGS = """
window.__dialogs = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__dialogs.push(name + ": " + String(args[0])); };
}
"""


# --- the site, served ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample instance with a story, a response and a provider website made of XSS payloads."""
    base = tmp_path_factory.mktemp("browser-site")
    data = make_instance(base / "data")
    (data / "stories" / "2026" / f"{XSS_ID}.yaml").write_text(XSS_STORY, encoding="utf-8")
    (data / "responses" / "2026" / "2026-02-16-xssre1.yaml").write_text(
        XSS_RESPONSE, encoding="utf-8"
    )
    for day in range(18, 26):
        story = MORE_STORY.format(day=day)
        (data / "stories" / "2026" / f"2026-02-{day}-more{day}.yaml").write_text(story)
    # The one field that becomes a link; maintainers curate it, but a pull request can change it.
    providers = data / "providers.csv"
    text = providers.read_text(encoding="utf-8")
    providers.write_text(text.replace("https://brook.example", XSS_WEBSITE), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        # Small shards, so that the search page merges several indexes as a large site does.
        patch.setattr(search, "SHARD_RECORDS", 4)
        return build_all(data, base / "output", SETTINGS).output


class _SiteHandler(SimpleHTTPRequestHandler):
    """Serves the site folder at PREFIX (and at /, for the 404 page's root-relative links)."""

    def translate_path(self, path: str) -> str:
        if path.startswith(PREFIX):
            path = "/" + path.removeprefix(PREFIX)
        return super().translate_path(path)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        """Quiet: the tests report what matters."""


@pytest.fixture(scope="session")
def site_url(browser_site: Path) -> Iterator[str]:
    """The site's address on a local server, ending in /."""
    handler = functools.partial(_SiteHandler, directory=str(browser_site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    """One chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    made = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE.is_file():
        skip_or_fail(f"axe-core is not installed at {AXE.relative_to(ROOT)} (run npm ci)")
    return AXE


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_a_missing_tool_skips_locally_and_fails_in_ci(
    ci: str, outcome: type[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="chromium is missing"):
        skip_or_fail("chromium is missing")


# --- page types ---------------------------------------------------------------------------


def asks_not_to_be_indexed(html: str) -> bool:
    return re.search(r'<meta name="robots" content="[^"]*noindex', html) is not None


def page_type(path: str, html: str) -> str:
    """A page's type from its address: "home", "providers", "provider", "provider-page-n", ..."""
    if path == "index.html":
        return "home"
    folders = path.split("/")[:-1]
    if not folders:
        return path.removesuffix(".html")
    if len(folders) == 1:
        return folders[0]
    name = ITEMS.get(folders[0], folders[0] + "-item")
    name += "".join("-page" if f == "page" else "-n" for f in folders[2:])
    if asks_not_to_be_indexed(html):
        name = "tombstone" if name == "story" else name + "-noindex"
    return name


def page_types(site: Path) -> dict[str, str]:
    """One page of each type (the biggest, which shows the most): type -> path in the site."""
    best: dict[str, tuple[int, str]] = {}
    for file in sorted(site.rglob("*.html")):
        path = file.relative_to(site).as_posix()
        html = file.read_text(encoding="utf-8")
        kind = page_type(path, html)
        if kind not in best or len(html) > best[kind][0]:
            best[kind] = (len(html), path)
    return {kind: path.removesuffix("index.html") for kind, (_, path) in sorted(best.items())}


@pytest.fixture(scope="session")
def pages(browser_site: Path) -> dict[str, str]:
    return page_types(browser_site)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("index.html", "home"),
        ("404.html", "404"),
        ("providers/index.html", "providers"),
        ("providers/brook-surgery/index.html", "provider"),
        ("providers/brook-surgery/page/1/index.html", "provider-page-n"),
        ("stories/2026-01-05-aaaa01/index.html", "story"),
        ("tags/booking/index.html", "tag"),
        ("widgets/blue/index.html", "widgets-item"),
    ],
)
def test_page_type(path: str, expected: str) -> None:
    assert page_type(path, "<html></html>") == expected


def test_a_withdrawn_story_is_a_tombstone() -> None:
    html = '<head><meta name="robots" content="noindex"></head>'
    assert page_type("stories/2026-03-01-wdrn01/index.html", html) == "tombstone"


def test_the_page_types_the_issue_names_are_built(pages: dict[str, str]) -> None:
    # Every type issue #4 names. Further types are found and checked all the same.
    named = {"home", "providers", "provider", "story", "tombstone", "search", "404"}
    named |= {"tag", "area", "kind", "contributor", "changes", "contribute", "about", "data"}
    named |= {"provider-page-n"}
    assert sorted(named - set(pages)) == []


# --- accessibility, validity, privacy ------------------------------------------------------


def axe_violations(page: Any, axe: Path) -> list[str]:
    page.add_script_tag(path=str(axe))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in result["violations"]
    ]


def search_for(page: Any, term: str) -> None:
    """Types term into the search page's box and waits until the results are announced.

    The announcement quotes the term ("3 results for “s”"); waiting for the bare term would
    also match "Loading search…" for a term as short as "s".
    """
    page.get_by_label("Search stories and providers").fill(term)
    page.get_by_role("button", name="Search").click()
    page.wait_for_function(
        "quoted => document.querySelector('[data-search-status]').textContent.includes(quoted)",
        arg=f"\u201c{term}\u201d",
    )


CHARTS_DRAWN = "document.querySelectorAll('[data-chart]:not(.chart-drawn)').length === 0"


def test_with_javascript_every_chart_is_drawn(
    context: Any, site_url: str, pages: dict[str, str]
) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = context.new_page()
    undrawn, drawn = {}, 0
    for kind, path in pages.items():
        page.goto(site_url + path)
        try:
            page.wait_for_function(CHARTS_DRAWN, timeout=10_000)
        except PlaywrightTimeout:
            undrawn[kind] = page.locator("[data-chart]:not(.chart-drawn)").evaluate_all(
                "cs => cs.map(c => c.getAttribute('data-chart'))"
            )
        drawn += page.locator("[data-chart].chart-drawn svg").count()
    assert undrawn == {}, json.dumps(undrawn, indent=2)
    assert drawn > 0  # the sample has enough ratings for charts


def test_axe_finds_no_accessibility_violations(
    context: Any, site_url: str, pages: dict[str, str], axe_script: Path
) -> None:
    page = context.new_page()
    found = {}
    for kind, path in pages.items():
        page.goto(site_url + path)
        if kind == "search":  # check the results too, not only the empty form
            search_for(page, "nurse")
        violations = axe_violations(page, axe_script)
        if violations:
            found[kind] = violations
    assert found == {}, json.dumps(found, indent=2)


FOCUS_SHOWN = """() => {
  const style = getComputedStyle(document.activeElement);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return outline || style.boxShadow !== "none";
}"""


def test_keyboard_skip_link_and_visible_focus(
    context: Any, site_url: str, pages: dict[str, str]
) -> None:
    page = context.new_page()
    problems = {}
    for kind, path in pages.items():
        page.goto(site_url + path)
        found = []
        page.keyboard.press("Tab")
        skip = page.evaluate("[document.activeElement.textContent, document.activeElement.hash]")
        if skip != ["Skip to main content", "#main"]:
            found.append(f"the first Tab stop is {skip}, not the skip link")
        elif not page.evaluate(FOCUS_SHOWN):
            found.append("the focused skip link shows no focus")
        page.keyboard.press("Enter")
        if page.evaluate("document.activeElement.id") != "main":
            found.append("the skip link does not move focus to the main content")
        for _ in range(4):  # the next few stops, inside the main content
            page.keyboard.press("Tab")
            if not page.evaluate(FOCUS_SHOWN):
                found.append(page.evaluate("document.activeElement.outerHTML.slice(0, 80)"))
        if found:
            problems[kind] = found
    assert problems == {}, json.dumps(problems, indent=2)


def test_nu_html_checker_finds_no_errors(browser_site: Path) -> None:
    java = shutil.which("java")
    if java is None or not VNU.is_file():
        skip_or_fail("the Nu HTML Checker needs java and node_modules/vnu-jar (run npm ci)")
    done = subprocess.run(
        [
            java,
            "-jar",
            str(VNU),
            "--errors-only",
            "--skip-non-html",
            "--format",
            "json",
            str(browser_site),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    messages = json.loads(done.stderr or done.stdout)["messages"]
    errors = [
        f"{m.get('url', '').split(browser_site.name, 1)[-1]}:{m.get('lastLine', 0)}: {m['message']}"
        for m in messages
    ]
    assert errors == [], "\n".join(errors)
    assert done.returncode == 0


def test_pages_load_nothing_from_outside_the_site(
    context: Any, site_url: str, pages: dict[str, str]
) -> None:
    origin = site_url.removesuffix(PREFIX)
    requested: list[str] = []
    page = context.new_page()
    page.on("request", lambda request: requested.append(request.url))
    outside = {}
    for kind, path in pages.items():
        requested.clear()
        page.goto(site_url + path, wait_until="networkidle")
        if kind == "search":  # searching fetches the index: from this site too
            search_for(page, "nurse")
            page.wait_for_load_state("networkidle")
        elsewhere = sorted({url for url in requested if not url.startswith(origin + "/")})
        if elsewhere:
            outside[kind] = elsewhere
    assert outside == {}, json.dumps(outside, indent=2)
    assert context.cookies() == []


def test_without_javascript_content_and_chart_tables_are_there(
    browser: Any, site_url: str, pages: dict[str, str]
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        problems = {}
        charts = 0
        for kind, path in pages.items():
            page.goto(site_url + path)
            missing = []
            if not page.locator("main h1").first.inner_text().strip():
                missing.append("a heading")
            if len(page.locator("main").inner_text().split()) < 5:
                missing.append("content")
            for chart in page.locator("main [data-chart]").all():
                charts += 1
                rows = chart.locator("table tbody tr")
                if not (chart.locator("table").is_visible() and rows.count()):
                    missing.append(f"the table of chart {chart.get_attribute('data-chart')}")
            if missing:
                problems[kind] = missing
        assert problems == {}, json.dumps(problems, indent=2)
        assert charts > 0  # the sample has enough ratings for charts: they must have been checked
    finally:
        context.close()


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_screenshots_of_every_page_type(
    browser: Any, site_url: str, pages: dict[str, str], request: pytest.FixtureRequest
) -> None:
    folder = Path(os.environ.get("FEEDBACK_SCREENSHOTS", ROOT / "tests" / "screenshots"))
    folder = folder / request.node.name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    sizes = {}
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 800})
        try:
            page = context.new_page()
            for kind, path in pages.items():
                page.goto(site_url + path)
                page.wait_for_function(CHARTS_DRAWN)
                if kind == "search":
                    search_for(page, "nurse")
                shot = folder / f"{kind}-{width}.png"
                page.screenshot(path=str(shot), full_page=True)
                # As wide as the screen, or wider if the page overflows (another test's concern).
                sizes[shot.name] = png_size(shot)[0] >= width
        finally:
            context.close()
    assert sizes == {f"{k}-{w}.png": True for w in WIDTHS for k in pages}


def test_no_page_scrolls_sideways_at_320_pixels(
    browser: Any, site_url: str, pages: dict[str, str]
) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 800})
    try:
        page = context.new_page()
        wide = {}
        for kind, path in pages.items():
            page.goto(site_url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 320:
                wide[kind] = width
        assert wide == {}, json.dumps(wide, indent=2)
    finally:
        context.close()


def test_printed_pages_keep_the_content_and_drop_the_navigation(
    context: Any, site_url: str, pages: dict[str, str]
) -> None:
    page = context.new_page()
    page.emulate_media(media="print")
    problems = {}
    for kind, path in pages.items():
        page.goto(site_url + path)
        found = [
            f"{selector} is printed"
            for selector in (".site-header nav", ".skip-link")
            if page.locator(selector).is_visible()
        ]
        if not page.locator("main h1").first.is_visible():
            found.append("the heading is not printed")
        if found:
            problems[kind] = found
    assert problems == {}, json.dumps(problems, indent=2)


# --- contributor text never runs ------------------------------------------------------------


def test_xss_payloads_never_run(
    context: Any, site_url: str, browser_site: Path, pages: dict[str, str]
) -> None:
    # Every page and feed that shows the story or its response, the home page and the search.
    showing = sorted(
        file.relative_to(browser_site).as_posix().removesuffix("index.html")
        for file in browser_site.rglob("*")
        if file.suffix in {".html", ".xml"} and XSS_ID in file.read_text(encoding="utf-8")
    )
    assert f"stories/{XSS_ID}/" in showing and "providers/brook-surgery/" in showing
    assert any(path.endswith(".xml") for path in showing), "no feed shows the story"
    dialogs: list[str] = []
    context.add_init_script(HOOK_DIALOGS)
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    ran = {}
    for path in ["", *showing]:
        page.goto(site_url + path, wait_until="networkidle")
        calls = page.evaluate("window.__dialogs || []")
        if calls:
            ran[path] = calls
        links = page.locator("a[href]").evaluate_all("as => as.map(a => a.href)")
        if any(href.strip().lower().startswith("javascript:") for href in links):
            ran[path] = [*ran.get(path, []), "a javascript: link"]
    page.goto(site_url + pages["search"])
    search_for(page, "zanzibar")
    titles = page.locator("[data-search-results] a").all_inner_texts()
    excerpt = page.locator("[data-search-results] p").first
    marked = (excerpt.inner_text(), excerpt.locator("mark").all_inner_texts())
    ran_in_search = page.evaluate("window.__dialogs")
    assert (ran, dialogs, ran_in_search) == ({}, [], []), "contributor text ran as script"
    # The payloads are shown as the text they are: in the page and in the search results.
    page.goto(site_url + f"stories/{XSS_ID}/")
    assert page.locator("h1").inner_text() == XSS_TITLE
    assert titles == [XSS_TITLE]
    assert "</script><script>alert(8)</script> zanzibar" in marked[0]
    assert marked[1] == ["zanzibar."]  # Pagefind marks the word with its full stop


# --- search, offline ----------------------------------------------------------------------


def test_search_finds_a_story_offline(context: Any, site_url: str, pages: dict[str, str]) -> None:
    origin = site_url.removesuffix(PREFIX)
    # Only this site answers: anything else would fail, as it does offline.
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(origin) else route.abort(),
    )
    page = context.new_page()
    page.goto(site_url + pages["search"])
    search_for(page, "forty")
    results = page.locator("[data-search-results] h2 a")
    assert results.all_inner_texts() == ["Waited forty minutes past my slot"]
    assert results.evaluate_all("as => as.map(a => a.getAttribute('href'))") == [
        f"{PREFIX}stories/2026-01-10-bbbb02/"
    ]
    assert page.locator("[data-search-status]").inner_text() == "1 result for “forty”"
    assert page.locator("[data-search-results] mark").first.inner_text().lower() == "forty"
    assert page.locator("[data-search-fallback]").is_hidden()
    # The query is kept in the address, so a search can be shared and reloaded.
    assert page.url.endswith("search/?q=forty")
    page.reload()
    page.wait_for_function("document.querySelectorAll('[data-search-results] li').length === 1")
    results.first.click()
    page.wait_for_url(f"**{PREFIX}stories/2026-01-10-bbbb02/")


def test_search_shows_ten_results_then_more_on_request(
    context: Any, site_url: str, pages: dict[str, str], browser_site: Path
) -> None:
    # Every record has a word starting with "s" (stories are "Shared by", every provider is in
    # Sampleton); the index is in shards, merged in the page.
    shards = json.loads((browser_site / "pagefind" / "shards.json").read_text())["shards"]
    assert len(shards) > 1
    indexed = sum(shard["records"] for shard in shards)
    assert indexed > 10
    page = context.new_page()
    page.goto(site_url + pages["search"])
    search_for(page, "s")
    items = page.locator("[data-search-results] li")
    more = page.get_by_role("button", name="Show more results")
    assert (items.count(), more.is_visible()) == (10, True)
    more.click()
    page.wait_for_function(
        f"document.querySelectorAll('[data-search-results] li').length === {indexed}"
    )
    # Focus moves to the first new result, so keyboard and screen-reader users carry on there.
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == items.nth(10).locator("h2 a").inner_text()
    assert more.is_hidden()
    assert page.locator("[data-search-status]").inner_text() == f"{indexed} results for “s”"


def test_search_labels_each_result_a_story_or_a_provider(
    context: Any, site_url: str, pages: dict[str, str], browser_site: Path
) -> None:
    shards = json.loads((browser_site / "pagefind" / "shards.json").read_text())["shards"]
    indexed = sum(shard["records"] for shard in shards)
    page = context.new_page()
    page.goto(site_url + pages["search"])
    search_for(page, "s")  # every record, as above: ten, then the rest
    page.get_by_role("button", name="Show more results").click()
    page.wait_for_function(
        f"document.querySelectorAll('[data-search-results] li').length === {indexed}"
    )
    shown = page.locator("[data-search-results] li").evaluate_all(
        """items => items.map(li => [
            li.querySelector('.search-kind').textContent,
            li.querySelector('h2 a').getAttribute('href'),
        ])"""
    )
    kinds = {kind for kind, _ in shown}
    wrong = [
        (kind, href)
        for kind, href in shown
        if kind != ("Provider" if href.startswith(f"{PREFIX}providers/") else "Story")
        or not href.startswith((f"{PREFIX}providers/", f"{PREFIX}stories/"))
    ]
    assert (kinds, wrong) == ({"Story", "Provider"}, [])


def test_search_says_when_nothing_matches(
    context: Any, site_url: str, pages: dict[str, str]
) -> None:
    page = context.new_page()
    page.goto(site_url + pages["search"])
    search_for(page, "xylophone")
    assert page.locator("[data-search-status]").inner_text() == (
        "No results for “xylophone”. Try fewer or different words."
    )
    assert page.locator("[data-search-results] li").count() == 0


def test_search_page_without_javascript_explains_and_links(
    browser: Any, site_url: str, pages: dict[str, str]
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site_url + pages["search"])
        assert page.locator("form[role=search]").is_hidden()
        fallback = page.locator("[data-search-fallback]")
        assert fallback.is_visible()
        assert "needs JavaScript" in fallback.inner_text()
        assert fallback.get_by_role("link", name="all providers").is_visible()
    finally:
        context.close()
