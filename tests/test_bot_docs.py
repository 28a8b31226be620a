"""Every bot command is documented where instance maintainers and moderators look."""

from __future__ import annotations

import pytest

from pipelines.cli import bot
from tests.conftest import ROOT


@pytest.mark.parametrize("command", sorted(bot.commands))
def test_every_bot_command_is_documented(command: str) -> None:
    text = (ROOT / "docs" / "github.md").read_text(encoding="utf-8")
    assert f"feedback bot {command}" in text
    help_text = bot.commands[command].help or ""
    assert "Example:" in help_text and f"feedback bot {command}" in help_text


@pytest.mark.parametrize(
    ("page", "needles"),
    [
        ("sharing.md", ["issue form", "pull request", "Privately", "Which route"]),
        ("responders.md", ["responders.csv", "response-author-not-responder"]),
        ("moderators.md", ["needs-moderation", "feedback bot promote", "moderation.csv"]),
        ("instance.md", ["Use this template", "Pages", "CODEOWNERS", "responders.csv"]),
    ],
)
def test_each_audience_has_its_page(page: str, needles: list[str]) -> None:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    assert [n for n in needles if n not in text] == []
