"""feedback demo-data: deterministic, valid, clearly synthetic instances."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.demo_data import write_demo_data
from pipelines.load import load_dataset
from pipelines.validate import validate_dataset
from tests.conftest import DATA
from tests.trees import tree


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "data"
    write_demo_data(out, stories=400, providers=12, seed=7, source=DATA)
    return out


def test_the_same_seed_gives_byte_identical_trees(demo: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    write_demo_data(again, stories=400, providers=12, seed=7, source=DATA)
    assert tree(again) == tree(demo)


def test_another_seed_gives_other_stories(demo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write_demo_data(other, stories=400, providers=12, seed=8, source=DATA)
    stories = {p for p in tree(other) if p.startswith("stories/")}
    assert stories != {p for p in tree(demo) if p.startswith("stories/")}


def test_it_validates_without_a_single_problem(demo: Path) -> None:
    validation = validate_dataset(load_dataset(demo), today=dt.date(2026, 11, 23))
    assert validation.report.problems == ()
    assert validation.commons is not None


def test_it_has_every_kind_of_record(demo: Path) -> None:
    commons = validate_dataset(load_dataset(demo), today=dt.date(2026, 11, 23)).commons
    assert commons is not None
    published = [s for s in commons.stories if s.published]
    responded = {r.story for r in commons.responses}
    withdrawn = {s.id for s in commons.stories if not s.published}
    logged = {m.story for m in commons.moderation if m.action == "withdrawn"}
    lengths = [len((s.story or "").split()) for s in published]
    assert (len(commons.stories), len(commons.providers)) == (400, 12)
    assert 0.15 < len(responded) / len(published) < 0.35
    assert withdrawn and withdrawn == logged
    assert any(r.change_status == "made" for r in commons.responses)
    assert any(r.change_status == "planned" for r in commons.responses)
    assert any(s.confirms for s in commons.stories)
    assert any(s.good for s in published) and any(s.better for s in published)
    assert any(not s.ratings for s in published) and any(len(s.ratings) > 2 for s in published)
    assert min(lengths) < 60 < max(lengths)


def test_it_says_it_is_synthetic(demo: Path) -> None:
    instance = validate_dataset(load_dataset(demo), today=dt.date(2026, 11, 23)).commons
    assert instance is not None
    assert (instance.instance.fictional, instance.instance.title) == (
        True,
        "Synthetic Feedback Commons",
    )
    with (demo / "providers.csv").open(encoding="utf-8", newline="") as handle:
        assert all(row["id"].startswith("synthetic-") for row in csv.DictReader(handle))


def test_the_schemas_are_copied_from_the_source(demo: Path) -> None:
    copied = {p: b for p, b in tree(demo).items() if p.startswith(("schemas/", "vocabularies/"))}
    source = {p: b for p, b in tree(DATA).items() if p.startswith(("schemas/", "vocabularies/"))}
    assert copied == source
    assert (demo / "datapackage.json").read_bytes() == (DATA / "datapackage.json").read_bytes()


def test_cli_writes_and_summarises(tmp_path: Path) -> None:
    out = tmp_path / "synthetic"
    result = CliRunner().invoke(
        main,
        ["demo-data", "--stories", "30", "--providers", "3", "--seed", "2", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("wrote 30 stories (")
    assert len(list((out / "stories").rglob("*.yaml"))) == 30


def test_cli_refuses_an_existing_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo-data", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "already exists" in result.stderr
