"""The open data package: valid, lossless, spreadsheet-safe, deterministic, versioned."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import zipfile
import zlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from bs4 import BeautifulSoup
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.cli import main
from pipelines.export import export_package
from pipelines.export.diff import diff_packages
from pipelines.export.release import read_release
from pipelines.export.tables import PUBLISHED
from pipelines.load import load_dataset
from pipelines.records import Commons
from pipelines.validate import validate_dataset
from tests.conftest import ROOT, make_instance

STORY = "stories/2026/2026-01-05-aaaa01.yaml"
WITHDRAWN = "2026-03-01-wdrn01"


def commons_of(data: Path) -> Commons:
    validation = validate_dataset(load_dataset(data))
    assert validation.report.errors == ()
    assert validation.commons is not None
    return validation.commons


def export(data: Path, output: Path) -> Path:
    export_package(commons_of(data), data, output)
    return output


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample instance exported once."""
    base = tmp_path_factory.mktemp("export")
    return export(make_instance(base / "data"), base / "out")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def read_json(path: Path) -> list[dict[str, object]]:
    return json.loads(path.read_text(encoding="utf-8"))


def git(repo: Path, *args: str, date: str = "2026-05-01T12:00:00+00:00") -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    )
    return done.stdout.strip()


# --- The descriptor --------------------------------------------------------------------


def test_frictionless_reports_the_package_valid(package: Path) -> None:
    from frictionless import validate

    report = validate(package / "datapackage.json")
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "type", "note"])


def test_frictionless_notices_a_changed_file(package: Path, tmp_path: Path) -> None:
    from frictionless import validate

    copy = shutil.copytree(package, tmp_path / "copy")
    ratings = copy / "ratings.csv"
    ratings.write_text(ratings.read_text().replace(",5\n", ",4\n", 1))
    report = validate(copy / "datapackage.json")
    assert not report.valid
    assert {kind for (kind,) in report.flatten(["type"])} == {"hash-count"}


def test_every_table_is_a_resource_with_its_licence(package: Path) -> None:
    descriptor = json.loads((package / "datapackage.json").read_text())
    licences = {r["name"]: r["licenses"][0]["name"] for r in descriptor["resources"]}
    directory = {"areas", "provider-kinds", "dimensions", "tags", "providers"}
    assert list(licences) == list(PUBLISHED)
    assert licences == {
        name: "OGL-UK-3.0" if name in directory else "CC-BY-4.0" for name in PUBLISHED
    }
    assert [lic["name"] for lic in descriptor["licenses"]] == ["CC-BY-4.0", "OGL-UK-3.0"]
    assert descriptor["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert "fictional demonstration dataset" in descriptor["description"]
    assert descriptor["feedback:schemaVersion"] == "1.0.0"


def test_fields_carry_the_schemas_descriptions_types_and_keys(package: Path) -> None:
    descriptor = json.loads((package / "datapackage.json").read_text())
    resources = {r["name"]: r for r in descriptor["resources"]}
    source = json.loads((ROOT / "data/schemas/ratings.json").read_text())
    assert resources["ratings"]["schema"]["fields"] == source["fields"]
    assert resources["ratings"]["schema"]["primaryKey"] == ["story", "dimension"]
    assert resources["ratings"]["schema"]["foreignKeys"] == source["foreignKeys"]
    stories = {f["name"]: f for f in resources["stories"]["schema"]["fields"]}
    pseudonym = json.loads((ROOT / "data/schemas/stories.json").read_text())["fields"][6]
    assert pseudonym["name"] == "author.pseudonym"
    assert stories["author_pseudonym"]["type"] == "string"
    assert stories["author_pseudonym"]["description"] == (
        pseudonym["description"] + " Empty for withdrawn stories."
    )
    # Room for the spreadsheet-safety quote in CSV cells.
    assert stories["author_pseudonym"]["constraints"] == {"minLength": 2, "maxLength": 41}
    assert stories["id"]["constraints"]["required"] is True
    assert stories["submitted_via"]["constraints"]["enum"] == [
        "pull-request",
        "issue-form",
        "private-intake",
    ]


def test_version_and_created_come_from_the_data_not_the_clock(package: Path) -> None:
    descriptor = json.loads((package / "datapackage.json").read_text())
    # Outside git and without SOURCE_DATE_EPOCH: the latest date in the data (a moderation entry).
    assert descriptor["created"] == "2026-04-02T00:00:00Z"
    assert descriptor["version"].startswith("2026-04-02.")
    assert len(descriptor["version"]) == len("2026-04-02.") + 8


def test_source_date_epoch_sets_created_outside_git(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    release = export_package(commons_of(sample), sample, tmp_path / "out")
    assert (release.created, release.version[:11]) == ("2026-01-01T00:00:00Z", "2026-01-01.")


# --- Tables --------------------------------------------------------------------------


def test_a_withdrawn_story_is_a_tombstone_without_its_words(package: Path) -> None:
    (row,) = [r for r in read_csv(package / "stories.csv") if r["id"] == WITHDRAWN]
    assert {k: v for k, v in row.items() if v} == {
        "id": WITHDRAWN,
        "provider": "hill-ward",
        "status": "withdrawn",
        "withdrawn_on": "2026-03-10",
        "withdrawal_reason": "contributor-request",
        "submitted_via": "pull-request",
        "schema_version": "1.0.0",
    }
    assert not [r for r in read_json(package / "json/ratings.json") if r["story"] == WITHDRAWN]


def test_published_counts_reconcile_with_the_data(package: Path) -> None:
    files = sorted((ROOT / "tests/data/sample/stories").rglob("*.yaml"))
    stories = [yaml.safe_load(p.read_text()) for p in files]
    published = [s for s in stories if s["status"] == "published"]
    rows = read_csv(package / "stories.csv")
    assert sorted(r["id"] for r in rows) == sorted(s["id"] for s in stories)
    assert sum(r["status"] == "published" for r in rows) == len(published)
    assert len(read_csv(package / "ratings.csv")) == sum(
        len(s.get("ratings") or {}) for s in published
    )
    tags = sum(len(v) for s in published for v in (s.get("tags") or {}).values())
    assert len(read_csv(package / "story-tags.csv")) == tags
    responses = list((ROOT / "tests/data/sample/responses").rglob("*.yaml"))
    assert len(read_csv(package / "responses.csv")) == len(responses)
    moderation = read_csv(ROOT / "tests/data/sample/moderation.csv")
    assert len(read_csv(package / "moderation.csv")) == len(moderation)
    counts = {
        (r["reason"], r["action"]): int(r["count"])
        for r in read_csv(package / "moderation-reasons.csv")
    }
    assert {k: v for k, v in counts.items() if v} == {
        ("contributor-request", "withdrawn"): 1,
        ("personal-data", "redacted"): 1,
    }
    assert len(counts) == 7 * 3


def test_changes_count_their_confirmations(package: Path) -> None:
    assert [
        (r["response"], r["status"], r["confirmations"]) for r in read_csv(package / "changes.csv")
    ] == [
        ("2026-01-12-resp01", "planned", "0"),
        ("2026-02-10-resp02", "made", "1"),
    ]


@pytest.mark.parametrize(
    ("title", "cell"),
    [
        ("=HYPERLINK(evil)", "'=HYPERLINK(evil)"),
        ("+1 for the nurse", "'+1 for the nurse"),
        ("-ve experience", "'-ve experience"),
        ("@reception was slow", "'@reception was slow"),
        ("\tTabbed title", "'\tTabbed title"),
        ("Fine = good", "Fine = good"),
        ("'Quoted' already", "'Quoted' already"),
    ],
)
def test_csv_cells_are_safe_in_spreadsheets_and_the_rest_stays_exact(
    sample: Path, tmp_path: Path, title: str, cell: str
) -> None:
    story = sample / STORY
    story.write_text(
        story.read_text().replace(
            "title: Quick appointment and a kind nurse", f"title: {json.dumps(title)}"
        )
    )
    # The validator refuses most of these titles; the export stays safe without relying on it.
    commons = validate_dataset(load_dataset(sample)).commons
    assert commons is not None
    out = tmp_path / "out"
    export_package(commons, sample, out)
    story_id = "2026-01-05-aaaa01"
    (row,) = [r for r in read_csv(out / "stories.csv") if r["id"] == story_id]
    (exact,) = [r for r in read_json(out / "json/stories.json") if r["id"] == story_id]
    assert (row["title"], exact["title"]) == (cell, title)
    (csv_row,) = [r for r in read_csv(out / "providers/brook-surgery.csv") if r["id"] == story_id]
    assert csv_row["title"] == cell


# --- Formats ---------------------------------------------------------------------------


def test_json_parquet_and_sqlite_hold_the_same_rows(package: Path) -> None:
    db = sqlite3.connect(package / "commons.db")
    for name in PUBLISHED:
        rows = read_json(package / f"json/{name}.json")
        parquet = pq.read_table(package / f"parquet/{name}.parquet").to_pylist()
        columns = list(rows[0]) if rows else []
        sql = (
            [
                dict(zip(columns, r, strict=True))
                for r in db.execute(
                    f"SELECT {', '.join(columns)} FROM {name.replace('-', '_')}"
                ).fetchall()
            ]
            if columns
            else []
        )
        as_text = [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
            for r in parquet
        ]
        assert as_text == rows, name
        booleans = {k for r in rows for k, v in r.items() if isinstance(v, bool)}
        assert [
            {k: (bool(v) if k in booleans and v is not None else v) for k, v in r.items()}
            for r in sql
        ] == rows, name


def test_sqlite_has_full_text_search_views_and_sound_keys(package: Path) -> None:
    db = sqlite3.connect(package / "commons.db")
    found = db.execute(
        "SELECT s.id FROM stories_fts JOIN stories s ON s.rowid = stories_fts.rowid "
        "WHERE stories_fts MATCH 'trolleys' ORDER BY s.id"
    ).fetchall()
    assert found == [("2026-03-15-eeee05",)]
    views = [
        r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")
    ]
    assert views == [
        "provider_summary",
        "published_stories",
        "responses_to_stories",
        "story_ratings",
    ]
    assert db.execute("SELECT count(*) FROM published_stories").fetchone() == (7,)
    summary = db.execute(
        "SELECT id, published_stories, overall_ratings FROM provider_summary ORDER BY id"
    ).fetchall()
    assert summary == [("brook-surgery", 3, 3), ("hill-ward", 3, 3), ("town-library", 1, 0)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_datasette_metadata_names_real_tables_and_the_search_index(package: Path) -> None:
    metadata = json.loads((package / "metadata.json").read_text())
    tables = metadata["databases"]["commons"]["tables"]
    db = sqlite3.connect(package / "commons.db")
    names = {
        r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
    }
    assert set(tables) <= names
    assert (tables["stories"]["fts_table"], tables["stories"]["fts_pk"]) == ("stories_fts", "rowid")
    assert metadata["license"] == "CC-BY-4.0"
    assert tables["providers"]["license"] == "OGL-UK-3.0"
    assert tables["stories"]["columns"]["status"].startswith("published, or withdrawn")


def test_every_provider_has_its_own_csv_and_json(package: Path) -> None:
    stories = read_csv(package / "stories.csv")
    for provider in ("brook-surgery", "hill-ward", "town-library"):
        mine = sorted(r["id"] for r in stories if r["provider"] == provider)
        extract = json.loads((package / f"providers/{provider}.json").read_text())
        assert extract["provider"]["id"] == provider
        assert [s["id"] for s in extract["stories"]] == mine
        assert {r["story"] for r in extract["ratings"]} <= set(mine)
        rows = read_csv(package / f"providers/{provider}.csv")
        assert [r["id"] for r in rows] == mine
    (row,) = [
        r
        for r in read_csv(package / "providers/brook-surgery.csv")
        if r["id"] == "2026-01-05-aaaa01"
    ]
    assert (row["rating_overall"], row["rating_communication"], row["rating_timeliness"]) == (
        "5",
        "4",
        "",
    )


def test_a_tombstone_keeps_no_ratings_in_its_providers_file(tmp_path: Path) -> None:
    data = make_instance(tmp_path / "data")
    withdrawn = data / f"stories/2026/{WITHDRAWN}.yaml"
    withdrawn.write_text(withdrawn.read_text() + "ratings:\n  overall: 2\n")
    out = export(data, tmp_path / "out")
    (row,) = [r for r in read_csv(out / "providers/hill-ward.csv") if r["id"] == WITHDRAWN]
    assert [row[k] for k in ("status", "rating_overall", "rating_communication")] == [
        "withdrawn",
        "",
        "",
    ]
    assert [r for r in read_csv(out / "ratings.csv") if r["story"] == WITHDRAWN] == []


def test_the_zip_holds_every_download_with_checksums(package: Path) -> None:
    release = read_release(package)
    archive = zipfile.ZipFile(package / f"{release.name}.zip")
    assert archive.testzip() is None
    members = archive.namelist()
    expected = sorted(d.path for d in release.downloads if not d.path.endswith(".zip"))
    assert members == [*expected, "SHA256SUMS"]
    assert archive.read("stories.csv") == (package / "stories.csv").read_bytes()
    assert {i.date_time for i in archive.infolist()} == {(2026, 4, 2, 0, 0, 0)}
    sums = dict(
        line.split("  ")[::-1] for line in (package / "SHA256SUMS").read_text().splitlines()
    )
    import hashlib

    for path, digest in sums.items():
        assert hashlib.sha256((package / path).read_bytes()).hexdigest() == digest, path
    assert "providers/hill-ward.csv" in sums and f"{release.name}.zip" in sums


def test_export_twice_gives_identical_bytes(sample: Path, tmp_path: Path) -> None:
    first = export(sample, tmp_path / "first")
    second = export(sample, tmp_path / "second")
    files = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file()
    )
    assert [f for f in files if (first / f).read_bytes() != (second / f).read_bytes()] == []
    assert len(files) == 52


# --- Nothing lost ---------------------------------------------------------------------

story_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300
).filter(lambda text: text.strip() != "")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=story_text)
def test_any_story_text_survives_json_parquet_sqlite_and_csv(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    base = tmp_path_factory.mktemp("round-trip")
    data = make_instance(base / "data")
    story = yaml.safe_load((data / STORY).read_text())
    del story["story"]
    quoted = yaml.safe_dump({"story": text}, default_style='"', allow_unicode=True, width=2**30)
    (data / STORY).write_text(yaml.safe_dump(story, allow_unicode=True) + quoted, encoding="utf-8")
    commons = validate_dataset(load_dataset(data)).commons
    assert commons is not None
    out = base / "out"
    export_package(commons, data, out)
    story_id = story["id"]
    (json_row,) = [r for r in read_json(out / "json/stories.json") if r["id"] == story_id]
    parquet = pq.read_table(out / "parquet/stories.parquet").to_pylist()
    (parquet_row,) = [r for r in parquet if r["id"] == story_id]
    (sql_text,) = (
        sqlite3.connect(out / "commons.db")
        .execute("SELECT story FROM stories WHERE id = ?", (story_id,))
        .fetchone()
    )
    with (out / "stories.csv").open(encoding="utf-8", newline="") as stream:
        (csv_row,) = [r for r in csv.DictReader(stream) if r["id"] == story_id]
    assert json_row["story"] == parquet_row["story"] == sql_text == text
    assert csv_row["story"] == ("'" + text if text[0] in "=+-@\t\r" else text)


# --- Provenance and versions -------------------------------------------------------------


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """The sample instance in a git repository, tagged as the release v2026.5.0."""
    data = make_instance(tmp_path / "repo" / "data")
    repo = data.parent
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "sample")
    git(repo, "tag", "v2026.5.0")
    return data


def change_the_sample(data: Path) -> None:
    """Add one story, withdraw one, edit one."""
    new = data / "stories/2026/2026-04-20-gggg07.yaml"
    new.write_text(
        (data / STORY)
        .read_text()
        .replace("2026-01-05-aaaa01", "2026-04-20-gggg07")
        .replace("submitted: 2026-01-05", "submitted: 2026-04-20")
        .replace("experienced: 2026-01", "experienced: 2026-04")
        .replace("the nurse was kind", "the pharmacist was kind")
        + "submitted_via: issue-form\n"
    )
    withdrawn = data / "stories/2026/2026-04-01-ffff06.yaml"
    story = yaml.safe_load(withdrawn.read_text())
    withdrawn.write_text(
        "".join(
            f"{line}\n"
            for line in withdrawn.read_text().splitlines()
            if line.split(":")[0] not in ("story", "  Friendly staff, quiet rooms.")
        )
        .replace("status: published", "status: withdrawn")
        .replace(f"title: {story['title']}", "title: Withdrawn")
    )
    with (data / "moderation.csv").open("a") as log:
        log.write("2026-04-25,2026-04-01-ffff06,withdrawn,contributor-request,sample-moderator,\n")
    edited = data / "stories/2026/2026-01-10-bbbb02.yaml"
    edited.write_text(edited.read_text().replace("Forty minutes", "Forty-five minutes"))


def test_records_carry_how_they_came_and_the_commit_that_added_them(
    repository: Path, tmp_path: Path
) -> None:
    first = git(repository.parent, "rev-parse", "HEAD")
    change_the_sample(repository)
    git(repository.parent, "add", ".")
    git(repository.parent, "commit", "-q", "-m", "more", date="2026-06-02T08:30:00+01:00")
    second = git(repository.parent, "rev-parse", "HEAD")
    out = export(repository, tmp_path / "out")
    rows = {r["id"]: r for r in read_csv(out / "stories.csv")}
    assert (
        rows["2026-01-05-aaaa01"]["added_in_commit"],
        rows["2026-01-05-aaaa01"]["submitted_via"],
    ) == (first, "pull-request")
    assert (
        rows["2026-04-20-gggg07"]["added_in_commit"],
        rows["2026-04-20-gggg07"]["submitted_via"],
    ) == (second, "issue-form")
    assert {r["added_in_commit"] for r in read_csv(out / "responses.csv")} == {first}
    descriptor = json.loads((out / "datapackage.json").read_text())
    assert descriptor["created"] == "2026-06-02T07:30:00Z"


def test_the_changelog_counts_what_changed_since_the_last_release(
    repository: Path, tmp_path: Path
) -> None:
    change_the_sample(repository)
    git(repository.parent, "add", ".")
    git(repository.parent, "commit", "-q", "-m", "more", date="2026-06-02T08:30:00+00:00")
    release = export_package(commons_of(repository), repository, tmp_path / "out")
    assert [
        (v.version, v.date, v.added, v.withdrawn, v.edited, v.published, v.withdrawn_total, v.tag)
        for v in release.versions
    ] == [
        (release.version, "2026-06-02", 1, 1, 1, 7, 2, None),
        ("v2026.5.0", "2026-05-01", 8, 1, 0, 7, 1, "v2026.5.0"),
    ]


def test_diff_prints_stories_added_withdrawn_and_edited(sample: Path, tmp_path: Path) -> None:
    old = export(sample, tmp_path / "old")
    change_the_sample(sample)
    new = export(sample, tmp_path / "new")
    difference = diff_packages(old, new)
    assert (difference.added, difference.withdrawn, difference.edited) == (
        ("2026-04-20-gggg07",),
        ("2026-04-01-ffff06",),
        ("2026-01-10-bbbb02",),
    )
    zipped = new / f"{read_release(new).name}.zip"
    result = CliRunner().invoke(main, ["export", "--diff", str(old), str(zipped)])
    assert (result.exit_code, result.stdout) == (
        0,
        f"from {difference.old_version} to {difference.new_version}\n"
        "stories added: 1\n  2026-04-20-gggg07\n"
        "stories withdrawn: 1\n  2026-04-01-ffff06\n"
        "stories edited: 1\n  2026-01-10-bbbb02\n",
    )


def test_diff_of_a_folder_that_is_no_package_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--diff", str(tmp_path), str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {tmp_path / 'datapackage.json'} cannot be read:")


def test_export_command_writes_the_package(sample: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", "--data", str(sample), "--output", str(tmp_path / "out")]
    )
    release = read_release(tmp_path / "out")
    assert (result.exit_code, result.stdout) == (
        0,
        f"exported version {release.version} (8 stories) into {(tmp_path / 'out').as_posix()}\n",
    )


def test_export_refuses_invalid_data_and_leaves_the_output(sample: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("old")
    story = sample / STORY
    story.write_text(story.read_text().replace("overall: 5", "overall: 6"))
    result = CliRunner().invoke(
        main, ["export", "--data", str(sample), "--output", str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert "ratings.overall" in result.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep"]


# --- On the site ---------------------------------------------------------------------------


def test_the_data_page_lists_downloads_dictionary_licences_citation_and_versions(
    sample_site: Path,
) -> None:
    release = read_release(sample_site / "data")
    page = BeautifulSoup((sample_site / "data/index.html").read_text(), "html.parser")
    rows = page.select("table.downloads tbody tr")
    links = [r.select_one("td a")["href"] for r in rows]
    checksums = [r.select_one("code.checksum").get_text() for r in rows]
    assert sorted(links) == sorted(f"../data/{d.path}" for d in release.downloads)
    assert sorted(checksums) == sorted(d.sha256 for d in release.downloads)
    stories_fields = [
        c.get_text() for c in page.select("#table-stories ~ div table.fields tbody th code")
    ]
    source = json.loads((ROOT / "data/schemas/stories.json").read_text())
    assert {f["name"].replace(".", "_") for f in source["fields"]} <= set(stories_fields)
    text = page.get_text(" ")
    assert "Open Government Licence v3.0" in text and "Creative Commons Attribution 4.0" in text
    assert f"Sample Commons [dataset], version {release.version}" in text
    assert "pd.read_parquet" in text and "datasette commons.db --metadata metadata.json" in text
    assert [th.get_text(" ", strip=True) for th in page.select("table.versions tbody th")] == [
        f"{release.version} (this version)"
    ]


def test_the_repository_citation_matches_the_instance() -> None:
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    instance = yaml.safe_load((ROOT / "data/instance.yaml").read_text())
    assert (citation["title"], citation["license"], citation["url"], citation["repository"]) == (
        instance["title"],
        instance["licence"],
        f"{instance['site_url']}/data/",
        f"https://github.com/{instance['repository']}",
    )


def test_a_shallow_clone_leaves_the_adding_commits_empty(repository: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repository.parent}", str(clone))
    out = export(clone / "data", tmp_path / "out")
    assert {r["added_in_commit"] for r in read_csv(out / "stories.csv")} == {""}


def zip_again(package: Path, path: Path) -> str:
    """Write the exported package's members into a zip at path, as the export does; the
    release's name."""
    from pipelines.export import archive

    release = read_release(package)
    members = {d.path: d.sha256 for d in release.downloads if not d.path.endswith(".zip")}
    archive.write_zip(package, members, path, (2026, 4, 2, 0, 0, 0))
    return release.name


def test_a_zip_past_4_gib_is_written_as_zip64(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.export import archive

    monkeypatch.setattr(archive, "ZIP_LIMIT", 0)
    name = zip_again(package, tmp_path / "big.zip")
    small = zipfile.ZipFile(package / f"{name}.zip")
    big = zipfile.ZipFile(tmp_path / "big.zip")
    assert big.testzip() is None
    assert big.namelist() == small.namelist()
    assert [big.read(n) for n in big.namelist()] == [small.read(n) for n in small.namelist()]


def test_the_zip_is_zlib_deflate_of_each_chunk_so_anyone_can_reproduce_it(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Same input, same output: each member's data is its chunks, each deflated on its own
    # by zlib (level ZIP_LEVEL, sync-flushed, the last finished): a function of the bytes
    # and zlib's version alone, unlike ISA-L's, which now and then coded a chunk otherwise.
    from pipelines.export import archive

    monkeypatch.setattr(archive, "ZIP_CHUNK", 512)
    path = tmp_path / "package.zip"
    zip_again(package, path)
    written = path.read_bytes()
    expected = {}
    zipped = zipfile.ZipFile(path)
    for info in zipped.infolist():
        if info.compress_type != zipfile.ZIP_DEFLATED:
            continue
        data = zipped.read(info.filename)
        chunks = [data[i : i + 512] for i in range(0, len(data), 512)] or [b""]
        pieces = []
        for index, chunk in enumerate(chunks):
            compressor = zlib.compressobj(archive.ZIP_LEVEL, zlib.DEFLATED, -15)
            last = index == len(chunks) - 1
            piece = compressor.compress(chunk)
            pieces.append(piece + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH))
        start = info.header_offset + 30 + len(info.filename.encode("utf-8"))
        expected[info.filename] = (written[start : start + info.compress_size], b"".join(pieces))
    assert len(expected) > 5
    assert {n for n, (found, made) in expected.items() if found != made} == set()


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 bytes"),
        (999, "999 bytes"),
        (12_500, "12.5 kB"),
        (3_140_000, "3.1 MB"),
        (2 * 10**9, "2.0 GB"),
    ],
)
def test_download_sizes_read_as_people_read_them(size: int, shown: str) -> None:
    from pipelines.website.data_page import human_size

    assert human_size(size) == shown


def test_constraints_are_listed_in_plain_words() -> None:
    from pipelines.website.data_page import constraint_words

    field = {
        "name": "score",
        "type": "integer",
        "constraints": {"required": True, "minimum": 1, "maximum": 5, "enum": [1, 2]},
    }
    assert constraint_words(field) == ("required", "one of: 1, 2", "at least 1", "at most 5")


def test_an_empty_moderation_log_exports_with_its_columns(tmp_path: Path) -> None:
    data = make_instance(tmp_path / "data")
    log = data / "moderation.csv"
    log.write_text(log.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    for story in data.glob("stories/*/*.yaml"):
        if "status: withdrawn" in story.read_text(encoding="utf-8"):
            story.unlink()  # a withdrawal needs its moderation entry
    out = export(data, tmp_path / "out")
    assert read_csv(out / "moderation.csv") == []
    assert (
        pq.read_table(out / "parquet/moderation.parquet").schema.field("schema_version").type
        == "string"
    )
