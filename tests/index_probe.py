"""Index paths in this process and print, as JSON, the report, the time each file took and
the peak memory so far after each file. Tests run it in a subprocess, to measure its RSS:

    python tests/index_probe.py HUSHDOC_HOME WORKSPACE PATH...
"""

from __future__ import annotations

import json
import re
import resource
import sys
import time
from dataclasses import asdict
from pathlib import Path

from rag.config import Config
from rag.engine import Engine


def peak_rss_mb() -> float:
    """This process's peak RSS. Linux's ``ru_maxrss`` carries the parent's peak over fork
    and exec (a test run that built a model would show its gigabytes here); the address
    space's own high-water mark, VmHWM, starts fresh at exec."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1)) / 1024


def main(home: str, workspace: str, *paths: str) -> None:
    files = []
    with Engine(Config(data_dir=Path(home)), workspace, create=True) as engine:
        _ = engine.store  # loads the embedding model, so that its memory is not put on a file
        models_mb = peak_rss_mb()
        work = engine.index([Path(p) for p in paths])
        current, started = None, time.monotonic()
        while True:
            try:
                progress = next(work)
            except StopIteration as done:
                report = done.value
                break
            if progress.stage in ("load", "done") and progress.path != current:
                if current is not None:
                    seconds = time.monotonic() - started
                    files.append({"path": current, "seconds": seconds, "rss_mb": peak_rss_mb()})
                current, started = progress.path, time.monotonic()
        check = engine.check()
    result = {"report": asdict(report), "files": files, "models_mb": models_mb, "ok": check.ok}
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
