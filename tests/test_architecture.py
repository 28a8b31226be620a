"""The one-way flow of data: a module imports leaves and earlier stages only."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest

from pipelines import records

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"

# Order of the stages; leaves (any stage may import them) come first.
LEAVES = {
    "pipelines",
    "pipelines.problems",
    "pipelines.records",
    "pipelines.config",
    "pipelines.package",
    "pipelines.yamlfile",
    "pipelines.staging",
    "pipelines.listing",
    "pipelines.cores",
    "pipelines.versions",
    "pipelines.logs",
}
STAGES = [
    "pipelines.load",
    "pipelines.validate",
    "pipelines.aggregate",
    "pipelines.charts",
    "pipelines.export",
    "pipelines.website",
    "pipelines.search",
]
# Heavy libraries live in their own stage only, so `feedback validate` starts fast.
HEAVY = {
    "pandas": {"pipelines.aggregate", "pipelines.export"},
    "altair": {"pipelines.charts"},
    "pelican": {"pipelines.website"},
    "github3": {"pipelines.bot"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PIPELINES.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage_of(name: str) -> int | None:
    for index, stage in enumerate(STAGES):
        if name == stage or name.startswith(stage + "."):
            return index
    return None


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
    return found


MODULES = sorted(PIPELINES.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) for p in MODULES])
def test_no_backward_imports(path: Path) -> None:
    name = module_name(path)
    own = stage_of(name)
    for imported in imports(path):
        if not imported.startswith("pipelines"):
            continue
        if name in LEAVES:
            assert imported in LEAVES, f"{name} is a leaf but imports {imported}"
            continue
        theirs = stage_of(imported)
        if own is not None and theirs is not None:
            assert theirs <= own, f"{name} imports the later stage {imported}"


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) for p in MODULES])
def test_heavy_libraries_stay_in_their_stage(path: Path) -> None:
    name = module_name(path)
    for imported in imports(path):
        top = imported.split(".")[0]
        if top in HEAVY:
            assert any(
                name == allowed or name.startswith(allowed + ".") for allowed in HEAVY[top]
            ), f"{name} imports {top}"


@pytest.mark.parametrize(
    ("table", "record"),
    [
        ("instance", records.Instance),
        ("providers", records.Provider),
        ("responders", records.Responder),
        ("stories", records.Story),
        ("responses", records.Response),
        ("moderation", records.ModerationEntry),
        ("dimensions", records.Dimension),
        ("tags", records.Term),
    ],
)
def test_records_carry_every_schema_field(table: str, record: type) -> None:
    descriptor = json.loads((PIPELINES.parent / "data" / "datapackage.json").read_text())
    (resource,) = [r for r in descriptor["resources"] if r["name"] == table]
    schema = json.loads((PIPELINES.parent / "data" / resource["schema"]).read_text())
    attributes = {f.name for f in dataclasses.fields(record)}
    assert {records.attribute(f["name"]) for f in schema["fields"]} <= attributes
