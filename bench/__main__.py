"""`python -m bench --stories N`: time every stage on a synthetic instance, against plain Pelican.

Writes bench/results/bench-N.md (a Markdown table: median of several runs and peak memory
per step) and bench-N.json; with both the 10,000 and 100,000 results present it adds the
extrapolation to 1,000,000 stories. Every step runs as its own process through
bench/measure.py, exactly as a user or CI would run it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "bench" / "data"
WROTE = re.compile(r"(?:rendered (\d+), )?wrote (\d+) of (\d+) (?:data )?pages")
# A command that times one stage of its own work says so; that figure is the step's time.
STAGE = re.compile(r"stage seconds: ([0-9.]+)")
# `feedback export` logs how long loading and validating took, and the export itself.
EXPORTED = re.compile(r"exported in ([0-9.]+) s")
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]


class BenchError(Exception):
    """A step failed: the benchmark stops and says which and why."""


@dataclass
class Step:
    name: str
    what: str
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    # The largest summed PSS of all the step's processes at once, sampled.
    total_peak_mb: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    # The 1-minute load average before each run: how busy the machine already was.
    load: list[float] = field(default_factory=list)
    # Seconds of the export stage inside each run, from the command's log, if it says.
    export_stage: list[float] = field(default_factory=list)
    note: str = ""
    skipped: str = ""
    stories: int = 0  # how many stories the step ran on
    commit: str = ""  # the checkout measured, so a table merged from several runs says which

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else math.nan

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else math.nan

    @property
    def peak(self) -> float:
        return max(self.peak_mb) if self.peak_mb else math.nan

    @property
    def total_peak(self) -> float:
        return max(self.total_peak_mb) if self.total_peak_mb else math.nan


def feedback(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines", *args]


def measure(command: list[str], cwd: Path) -> dict[str, object]:
    """Run command once in cwd through bench.measure; its time, peak memory and output."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.measure", *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    result: dict[str, object] = json.loads(completed.stdout)
    if result["returncode"] != 0:
        raise BenchError(
            f"{' '.join(command[2:])} failed with exit status {result['returncode']}:\n"
            f"{result['stdout']}{result['stderr']}"
        )
    return result


def run_step(step: Step, command: list[str], cwd: Path, runs: int, before: object = None) -> None:
    for number in range(runs):
        if callable(before):
            before(number)
        step.load.append(os.getloadavg()[0])
        result = measure(command, cwd)
        stage = STAGE.search(str(result["stderr"]))
        exported = EXPORTED.search(str(result["stderr"]))
        if exported:
            step.export_stage.append(float(exported.group(1)))
        step.seconds.append(float(stage.group(1) if stage else result["seconds"]))  # type: ignore[arg-type]
        step.peak_mb.append(float(result["peak_mb"]))  # type: ignore[arg-type]
        step.total_peak_mb.append(float(result["total_peak_mb"]))  # type: ignore[arg-type]
        step.cpu_seconds.append(float(result["cpu_seconds"]))  # type: ignore[arg-type]
        step.note = pages_note(str(result["stderr"])) or step.note


def pages_note(log: str) -> str:
    """What a build's log says it rendered and wrote, for the step's note; "" if it says nothing."""
    found = WROTE.search(log)
    if not found:
        return ""
    rendered = f"rendered {found.group(1)}, " if found.group(1) else ""
    return f"{rendered}wrote {found.group(2)} of {found.group(3)} pages"


def add_story(data: Path, number: int) -> str:
    """One new story with its own text (a copy would be reported as a duplicate)."""
    sys.path.insert(0, str(ROOT))
    from pipelines.demo_data import add_story as add

    return add(data, f"bnch{number:02d}")


def prepare(work: Path, stories: int, providers: int, seed: int) -> Path:
    """A fresh workspace: the synthetic data as a git repository, our theme and settings."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    data = work / "data"
    subprocess.run(
        feedback(
            "demo-data",
            "--quiet",
            "--stories",
            str(stories),
            "--providers",
            str(providers),
            "--seed",
            str(seed),
            "--out",
            str(data),
            "--data",
            str(ROOT / "data"),
        ),
        check=True,
        cwd=ROOT,
    )
    subprocess.run(["git", "init", "-q"], cwd=data, check=True)
    subprocess.run(["git", "add", "-A"], cwd=data, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "synthetic data"], cwd=data, check=True)
    # pelican.conf.py names content/ and themes/ relative to where it runs.
    for name in ("content", "themes"):
        (work / name).symlink_to(ROOT / name)
    shutil.copy(ROOT / "pelican.conf.py", work / "pelican.conf.py")
    return data


def has_option(command: str, option: str, cwd: Path) -> bool:
    completed = subprocess.run(
        feedback(command, "--help"), cwd=cwd, capture_output=True, text=True, check=False
    )
    return completed.returncode == 0 and option in completed.stdout


def baseline_content(data: Path, target: Path, limit: int) -> int:
    """One Markdown article per published story: the obvious way to build this with Pelican."""
    sys.path.insert(0, str(ROOT))
    from pipelines.yamlfile import Mapping, parse_yaml

    target.mkdir(parents=True)
    written = 0
    for path in sorted((data / "stories").rglob("*.yaml"))[:limit]:
        root, _ = parse_yaml(path.read_text(encoding="utf-8"))
        if not isinstance(root, Mapping) or root.items.get("status") != "published":
            continue
        values = root.items
        author = values.get("author")
        pseudonym = author.items.get("pseudonym") if isinstance(author, Mapping) else ""
        (target / f"{path.stem}.md").write_text(
            f"Title: {values.get('title')}\n"
            f"Date: {values.get('submitted')}\n"
            f"Category: {values.get('provider')}\n"
            f"Author: {pseudonym}\n"
            f"Slug: {path.stem}\n\n"
            f"{values.get('story')}\n",
            encoding="utf-8",
        )
        written += 1
    return written


STEPS = (
    "validate-cold",
    "validate-warm",
    "build-clean",
    "rebuild-one-story",
    "rebuild-no-change",
    "validate-since",
    "export",
    "search-index",
    "baseline",
)


def checkout() -> str:
    """The commit measured, with "+" when the working tree differs from it."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return (
        head.stdout.strip() + ("+" if dirty.stdout.strip() else "") if head.returncode == 0 else ""
    )


def run(args: argparse.Namespace) -> list[Step]:
    stories, runs = args.stories, args.runs
    providers = args.providers or max(1, stories // 50)
    work = WORK / f"work-{stories}"
    data = prepare(work, stories, providers, args.seed)
    only = set(args.only)
    commit = checkout()
    # With --only, the steps not measured again keep their stored figures (each row names
    # the commit it was measured at).
    kept = stored_steps(args.stories) if only else []
    steps: list[Step] = []

    def wanted(name: str) -> bool:
        return not only or name in only

    def record(step: Step) -> None:
        # Saved after every step, so a run cut short still leaves what it measured.
        step.stories = step.stories or stories
        step.commit = commit
        steps.append(step)
        save(args, merged(kept, steps))

    def clean(*names: str) -> object:
        return removing(work, *names)

    validate = feedback("validate", "--quiet", "--data", "data")
    build = feedback("build", "--data", "data", "--output", "output")
    if wanted("validate-cold"):
        step = Step("validate-cold", "full validation, no cache (a fresh CI runner)")
        run_step(step, validate, work, runs, clean(".cache"))
        record(step)
    if wanted("validate-warm"):
        step = Step("validate-warm", "full validation, data snapshot from an earlier run")
        run_step(step, validate, work, runs)
        record(step)
    if wanted("build-clean"):
        step = Step("build-clean", "full build from a clean checkout: no output, no cache")
        run_step(step, build, work, runs, clean("output", ".cache"))
        record(step)
    elif wanted("rebuild-one-story") or wanted("rebuild-no-change"):
        measure(build, work)  # the build the rebuilds start from, not measured
    if wanted("rebuild-one-story"):
        step = Step("rebuild-one-story", "rebuild after adding one story")
        run_step(step, build, work, runs, lambda n: add_story(data, n))
        record(step)
    if wanted("rebuild-no-change"):
        step = Step("rebuild-no-change", "rebuild with nothing changed")
        run_step(step, build, work, runs)
        record(step)

    if wanted("validate-since"):
        record(measure_since(data, work, runs))
    if wanted("export"):
        step = measure_export(work, runs)
        record(step)
        if step.export_stage:
            record(
                Step(
                    "export-stage",
                    "the export stage of those runs alone, after loading and validating",
                    seconds=step.export_stage,
                    note="from the command's own log; CPU and memory are the export row's",
                )
            )
    if wanted("search-index"):
        step = Step(
            "search-index",
            "search indexing from clean, timed alone (also part of the build)",
            note="CPU s and peak MB include loading and validating the data first",
        )
        run_step(
            step,
            [sys.executable, "-m", "bench.search_index", "data", "output"],
            work,
            runs,
        )
        record(step)
    if wanted("baseline"):
        record(measure_baseline(args, data, work))
    if not args.keep:
        shutil.rmtree(work)
    return steps


def removing(work: Path, *names: str) -> Callable[[int], None]:
    """A before-run step that removes these folders of the workspace."""

    def before(_number: int) -> None:
        for name in names:
            shutil.rmtree(work / name, ignore_errors=True)

    return before


def measure_since(data: Path, work: Path, runs: int) -> Step:
    step = Step("validate-since", "`feedback validate --since` with one new committed story")
    if not has_option("validate", "--since", work):
        step.skipped = "feedback validate has no --since option in this checkout"
        return step

    def commit_story(number: int) -> None:
        add_story(data, 50 + number)
        subprocess.run(["git", "add", "-A"], cwd=data, check=True)
        subprocess.run([*GIT, "commit", "-q", "-m", "one story"], cwd=data, check=True)

    run_step(
        step,
        feedback("validate", "--quiet", "--data", "data", "--since", "HEAD~1"),
        work,
        runs,
        commit_story,
    )
    return step


def measure_export(work: Path, runs: int) -> Step:
    step = Step("export", "export of the data package")
    if not has_option("export", "--output", work):
        step.skipped = "feedback export does not exist in this checkout"
        return step

    run_step(
        step,
        feedback("export", "--data", "data", "--output", "export"),
        work,
        runs,
        removing(work, "export"),
    )
    return step


def measure_baseline(args: argparse.Namespace, data: Path, work: Path) -> Step:
    """Plain Pelican, one Markdown article per story: the obvious way to build this."""
    limit = min(args.stories, args.baseline_stories or args.stories)
    baseline_runs = args.baseline_runs or (args.runs if limit <= 10000 else 1)
    step = Step(
        "baseline",
        f"plain Pelican, one Markdown article per story ({limit} stories)",
        stories=limit,
    )
    articles = baseline_content(data, work / "baseline" / "content", limit)
    (work / "baseline" / "settings.py").write_text(
        'SITENAME = "Baseline"\nPATH = "content"\nTIMEZONE = "UTC"\nLOAD_CONTENT_CACHE = False\n',
        encoding="utf-8",
    )
    run_step(
        step,
        [sys.executable, "-m", "pelican", "content", "-s", "settings.py", "-o", "out", "-q"],
        work / "baseline",
        baseline_runs,
        lambda _n: shutil.rmtree(work / "baseline" / "out", ignore_errors=True),
    )
    step.note = f"{articles} articles, {baseline_runs} run(s), default theme"
    return step


def merged(kept: list[Step], measured: list[Step]) -> list[Step]:
    """The stored steps not measured again and the ones measured now, in the bench's order."""
    names = {step.name for step in measured}
    steps = [step for step in kept if step.name not in names] + measured
    order = {name: index for index, name in enumerate((*STEPS[:-1], "export-stage", STEPS[-1]))}
    return sorted(steps, key=lambda step: order.get(step.name, len(order)))


def stored_steps(stories: int) -> list[Step]:
    """The steps of the last results at this size, to keep beside the ones measured again."""
    path = RESULTS / f"bench-{stories}.json"
    if not path.is_file():
        return []
    return [Step(**step) for step in _steps(json.loads(path.read_text(encoding="utf-8"))).values()]


def machine() -> str:
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.1f} GB memory"
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}, {platform.system()}"


def table(steps: list[Step]) -> list[str]:
    lines = [
        "| step | what | median s | runs (s) | CPU s | peak MB | all at once MB | load before "
        "| commit | note |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for step in steps:
        if step.skipped:
            lines.append(
                f"| {step.name} | {step.what} | – | – | – | – | – | – | {step.commit or '–'} "
                f"| skipped: {step.skipped} |"
            )
            continue
        runs = ", ".join(f"{s:.1f}" for s in step.seconds)
        load = f"{max(step.load):.1f}" if step.load else "–"
        cpu = "–" if math.isnan(step.cpu_median) else f"{step.cpu_median:.1f}"
        peak = "–" if math.isnan(step.peak) else f"{step.peak:.0f}"
        total = "–" if math.isnan(step.total_peak) else f"{step.total_peak:.0f}"
        lines.append(
            f"| {step.name} | {step.what} | {step.median:.1f} | {runs} | {cpu} "
            f"| {peak} | {total} | {load} | {step.commit or '–'} | {step.note} |"
        )
    return lines


def extrapolation() -> list[str]:
    """Power-law fit through the 10,000 and 100,000 results, evaluated at 1,000,000."""
    small, large = RESULTS / "bench-10000.json", RESULTS / "bench-100000.json"
    if not (small.is_file() and large.is_file()):
        return ["Run `make bench SIZE=10000` and `make bench` to see the 1,000,000 extrapolation."]
    a = _steps(json.loads(small.read_text()))
    b = _steps(json.loads(large.read_text()))
    lines = [
        "| step | small s (stories) | large s (stories) | growth exponent | 1M s (extrapolated) "
        "| large MB | 1M MB (extrapolated) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, step in b.items():
        if name not in a or not step["seconds"] or not a[name]["seconds"]:
            continue
        t10, t100 = statistics.median(a[name]["seconds"]), statistics.median(step["seconds"])
        m10 = max(a[name]["peak_mb"], default=math.nan)
        m100 = max(step["peak_mb"], default=math.nan)
        n10, n100 = a[name]["stories"], step["stories"]
        if n100 <= n10:
            continue  # e.g. a baseline measured on the same capped number of stories
        scale = math.log10(n100 / n10)
        exponent = math.log10(t100 / t10) / scale if t10 > 0 and t100 > 0 else math.nan
        memory_exponent = math.log10(m100 / m10) / scale if m10 > 0 and m100 > 0 else math.nan
        ahead = math.log10(1_000_000 / n100)
        memory = (
            "– | –"
            if math.isnan(memory_exponent)
            else f"{m100:.0f} | {m100 * 10 ** (memory_exponent * ahead):.0f}"
        )
        lines.append(
            f"| {name} | {t10:.1f} ({n10}) | {t100:.1f} ({n100}) | {exponent:.2f} | "
            f"{t100 * 10 ** (exponent * ahead):.0f} | {memory} |"
        )
    return lines


def _steps(stored: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A results file's steps by name, each with the number of stories it was measured on."""
    out = {}
    for step in stored["steps"]:
        counted = re.search(r"\((\d+) stories\)", step["what"])
        step.setdefault("stories", int(counted.group(1)) if counted else stored["args"]["stories"])
        out[step["name"]] = step
    return out


def report(args: argparse.Namespace, steps: list[Step]) -> str:
    by_name = {s.name: s for s in steps}
    ours, baseline = by_name.get("build-clean"), by_name.get("baseline")
    lines = [
        f"# Benchmark: {args.stories} stories",
        "",
        f"Machine: {machine()}.",
        f"Data: `feedback demo-data --stories {args.stories} --providers "
        f"{args.providers or max(1, args.stories // 50)} --seed {args.seed}`. "
        f"Times are medians of {args.runs} runs unless a row says otherwise; peak memory is the "
        "largest single process of the step, and all at once the largest sum, sampled every "
        "0.5 s, of the proportional set sizes of all its processes (a page forked processes "
        "share counts once, split between them): the memory the step needs. CPU s is user + system time of the "
        "step's processes; load before is the highest 1-minute load average at the start of "
        "a run, which still counts the bench's own previous step (it decays over about a "
        "minute), so only a figure well above the cores' count shows other work.",
        "",
        *table(steps),
        "",
    ]
    if ours and baseline and baseline.seconds and ours.seconds:
        baseline_stories = min(args.stories, args.baseline_stories or args.stories)
        if baseline_stories == args.stories:
            lines.append(
                f"Our full build from clean takes {ours.median / baseline.median:.2f}× the time "
                f"of the plain-Pelican baseline on the same data ({ours.median:.1f} s against "
                f"{baseline.median:.1f} s)."
            )
        else:
            # The baseline grows quadratically on this data (measured: 72 s at 10k, 393 s at 30k).
            estimate = baseline.median * (args.stories / baseline_stories) ** 2
            lines.append(
                f"The baseline was measured on {baseline_stories} stories only; assuming its "
                f"quadratic growth it would take about {estimate:.0f} s at {args.stories}, so our "
                f"full build takes about {ours.median / estimate:.3f}× its time (an estimate)."
            )
    lines += ["", "## 1,000,000 stories", "", *extrapolation(), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--stories", type=int, default=100000, help="Default: 100000.")
    parser.add_argument("--providers", type=int, default=0, help="Default: stories / 50.")
    parser.add_argument("--seed", type=int, default=1, help="Default: 1.")
    parser.add_argument("--runs", type=int, default=3, help="Runs per step. Default: 3.")
    parser.add_argument(
        "--baseline-stories",
        type=int,
        default=0,
        help="Build the baseline from only this many stories. Default: all of them.",
    )
    parser.add_argument(
        "--baseline-runs",
        type=int,
        default=0,
        help="Runs of the slow baseline. Default: --runs up to 10000 stories, else 1.",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the workspace. Default: off.")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        choices=STEPS,
        metavar="STEP",
        help="Measure only this step (repeat for more); the other rows keep their stored "
        f"figures. One of: {', '.join(STEPS)}. Default: every step.",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="Rewrite bench-N.md from the stored bench-N.json without measuring. Default: off.",
    )
    args = parser.parse_args()
    if args.report_only:
        stored = json.loads((RESULTS / f"bench-{args.stories}.json").read_text(encoding="utf-8"))
        args = argparse.Namespace(**stored["args"])
        steps = [Step(**step) for step in _steps(stored).values()]
        text = report(args, steps)
        (RESULTS / f"bench-{args.stories}.md").write_text(text, encoding="utf-8")
        sys.stdout.write(text)
        return
    try:
        run(args)
    except BenchError as error:
        sys.exit(f"bench: {error}")
    sys.stdout.write((RESULTS / f"bench-{args.stories}.md").read_text(encoding="utf-8"))


def save(args: argparse.Namespace, steps: list[Step]) -> None:
    """Write bench-N.json and bench-N.md with the steps measured so far."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"bench-{args.stories}.json").write_text(
        json.dumps(
            {"args": vars(args), "machine": machine(), "steps": [asdict(s) for s in steps]},
            indent=2,
            sort_keys=True,
        )
        + "\n",
        encoding="utf-8",
    )
    (RESULTS / f"bench-{args.stories}.md").write_text(report(args, steps), encoding="utf-8")


if __name__ == "__main__":
    main()
