"""`feedback serve`: build, serve the output on localhost, rebuild when sources change."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipelines.build import BuildFailed, build_all
from pipelines.load import DEFAULT_CACHE_DIR
from pipelines.logs import get_logger
from pipelines.problems import render_text

log = get_logger(__name__)


def _build(data_dir: Path, output_dir: Path, settings: Path) -> None:
    try:
        result = build_all(data_dir, output_dir, settings, cache_dir=DEFAULT_CACHE_DIR)
        log.info("%s", result.summary())
    except BuildFailed as failure:
        if failure.report is not None:
            log.error("%s", render_text(failure.report))
        log.error("build failed: %s; still serving the previous build", failure)


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        log.debug(format, *args)


def serve_site(data_dir: Path, output_dir: Path, settings: Path, port: int, watch: bool) -> None:
    """Serve output_dir on 127.0.0.1:port until interrupted; rebuild on change when watching."""
    _build(data_dir, output_dir, settings)
    # Serve the folder by path, not by open handle: each build replaces it whole.
    handler = functools.partial(_Handler, directory=str(output_dir.resolve()))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    log.info("serving %s on http://127.0.0.1:%d/ (Ctrl-C to stop)", output_dir.as_posix(), port)
    try:
        if not watch:
            thread.join()
            return
        from watchfiles import watch as watch_changes

        sources = [p for p in (data_dir, Path("content"), Path("themes"), settings) if p.exists()]
        for changes in watch_changes(*sources):
            log.info("%d files changed: rebuilding", len(changes))
            _build(data_dir, output_dir, settings)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
