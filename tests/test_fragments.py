"""The HTML that pages repeat, made in Python (fragments.py, filters.text_html), is the HTML
the Jinja macros it replaced made, character for character, whatever the text."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment
from markupsafe import escape

from pipelines.website.filters import FILTERS, excerpt, text_html
from pipelines.website.fragments import contributor_link, rating

# The macros as they were in themes/commons/templates/macros.html, under the site's Jinja
# options (pelican.conf.py): the reference the Python versions must match.
REFERENCE_MACROS = """\
{% macro rating(score, label) -%}
<span class="rating" role="img" aria-label="{{ label }}: {{ score }} out of 5"><span class="rating-stars" aria-hidden="true">{% for i in range(1, 6) %}{% if i <= score %}★{% else %}☆{% endif %}{% endfor %}</span> <span class="rating-number" aria-hidden="true">{{ score }}/5</span></span>
{%- endmacro %}

{% macro contributor_link(pseudonym, slug, root) -%}
{% if slug %}<a href="{{ root }}contributors/{{ slug }}/">{{ pseudonym }}</a>{% else %}{{ pseudonym }}{% endif %}
{%- endmacro %}

{% macro excerpt(value) -%}
{% set first = (value|paragraphs)[:1] %}
{% for paragraph in first %}{{ paragraph|join(" ")|truncate(220) }}{% endfor %}
{%- endmacro %}

{% macro text(value) -%}
{% for paragraph in value|paragraphs %}
<p>{% for line in paragraph %}{{ line }}{% if not loop.last %}<br>
{% endif %}{% endfor %}</p>
{% endfor %}
{%- endmacro %}
"""


@pytest.fixture(scope="module")
def reference() -> Any:
    env = Environment(
        autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )
    env.filters.update(FILTERS)
    return env.from_string(REFERENCE_MACROS).module


# Text a contributor might write, markup and quotes included.
hostile_text = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("<>&\"' \n\r\t"))


@given(score=st.integers(-2, 8), label=hostile_text)
def test_a_rating_is_what_the_macro_made(reference: Any, score: int, label: str) -> None:
    assert str(rating(score, label)) == str(reference.rating(score, label))


@given(
    pseudonym=st.none() | hostile_text,
    slug=st.none() | hostile_text,
    root=st.sampled_from(["", "../", "../../../../", '"><x>']),
)
def test_a_contributor_link_is_what_the_macro_made(
    reference: Any, pseudonym: str | None, slug: str | None, root: str
) -> None:
    assert str(contributor_link(pseudonym, slug, root)) == str(  # type: ignore[arg-type]
        reference.contributor_link(pseudonym, slug, root)
    )


@given(text=st.none() | hostile_text)
def test_text_as_html_is_what_the_macro_made(reference: Any, text: str | None) -> None:
    assert str(text_html(text)) == str(reference.text(text))


@given(text=st.none() | hostile_text | st.lists(hostile_text).map(" ".join))
def test_a_cards_excerpt_is_what_the_template_made(reference: Any, text: str | None) -> None:
    env = Environment(autoescape=True)
    assert str(escape(excerpt(env, text))) == str(reference.excerpt(text))


def test_contributor_text_cannot_become_markup() -> None:
    made = (
        rating(4, '<script>alert("x")</script>')
        + contributor_link("<b>Jo</b>", '"><img src=x>', "../")
        + text_html("<em>one</em>\n\ntwo & three")
    )
    assert "<script>" not in made and "<b>" not in made and "<img" not in made
    assert "<em>" not in made
    assert "&lt;script&gt;" in made and "&#34;&gt;&lt;img src=x&gt;" in made
    assert str(text_html("a\nb\n\n c ")) == "<p>a<br>\nb</p>\n<p>c</p>\n"
    assert str(rating(3, "Overall")).count("★") == 3
