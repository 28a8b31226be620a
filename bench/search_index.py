"""`python -m bench.search_index DATA SITE`: index a built site for search from clean, timed alone.

The search index is built from the validated commons, so this loads and validates DATA
first (with the data snapshot in .cache/) and then times only the indexing into SITE. It
prints `stage seconds: N` on stderr, which the benchmark reports instead of the whole
command's time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pipelines.load import load_dataset
from pipelines.search import build_search_index, search_records
from pipelines.validate import validate_dataset


def main() -> None:
    data, site = Path(sys.argv[1]), Path(sys.argv[2])
    commons = validate_dataset(load_dataset(data, cache_dir=Path(".cache"))).commons
    if commons is None:
        sys.exit(f"bench: the data in {data} has errors; run feedback validate")
    records = search_records(commons)
    started = time.perf_counter()
    result = build_search_index(site, records, commons.instance.language)
    seconds = time.perf_counter() - started
    sys.stderr.write(
        f"stage seconds: {seconds:.3f}\nindexed {result.pages} records in {result.shards} shards\n"
    )


if __name__ == "__main__":
    main()
