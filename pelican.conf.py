"""Pelican settings for Feedback Commons.

Instance details (title, place, licence, vocabularies) live in data/; this file holds what
Pelican needs to know. Pelican only finds pelicanconf.py by itself: always pass this file
(`feedback build` does).
"""

PATH = "content"
THEME = "themes/commons"
THEME_STATIC_DIR = "theme"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_DATE = "fs"

# Contributor text is untrusted: escape everything unless a template says otherwise
# (Pelican leaves autoescape off because it trusts its authors; we publish strangers' text).
JINJA_ENVIRONMENT = {
    "autoescape": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}

# Hand-written pages only: content/pages/*.md. Stories and providers come from data/
# through our generator, never through Markdown.
ARTICLE_PATHS: list[str] = []
PAGE_PATHS = ["pages"]
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
STATIC_PATHS: list[str] = []
DIRECT_TEMPLATES: list[str] = []
ARTICLE_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
TAG_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
TAGS_SAVE_AS = ""
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
RELATIVE_URLS = True
DELETE_OUTPUT_DIRECTORY = False
LOAD_CONTENT_CACHE = False
CACHE_CONTENT = False
CHECK_MODIFIED_METHOD = "sha256"

MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.toc": {"permalink": False},
    },
    "output_format": "html5",
}

PLUGINS = ["pipelines.website.plugin"]

# Feedback Commons settings.
FEEDBACK_MAIN_NAV = [
    ("Providers", "providers/"),
    ("Search", "search/"),
    ("Share your story", "contribute/"),
    ("Changes made", "changes/"),
    ("Data", "data/"),
    ("About", "about/"),
]
