"""`python -m bench [train|dashboard|tsne|memory|hostile ...] [--repeats N]`: run benchmarks, print one table.

`make bench` runs them all. `dashboard` covers both the dashboard's overhead on training and the
latencies a visitor feels in the browser. Each figure is printed next to a baseline measured in the
same run, with their ratio; nothing here is a test and nothing fails on a slow machine.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback

from .common import ARTIFACTS, Row, machine, table

BENCHES = {"train": "bench.train", "dashboard": "bench.browser", "tsne": "bench.tsne", "memory": "bench.memory",
           "hostile": "bench.hostile", "store": "bench.store", "anomaly": "bench.anomaly", "lab": "bench.live_lab",
           "costs": "bench.costs", "family": "bench.family"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=[*BENCHES, []], metavar="NAME",
                        help=f"which benchmarks ({', '.join(BENCHES)}); all when none is named")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per figure; the table shows medians")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHES)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {machine()}", flush=True)
    rows: list[Row] = []
    failed: list[str] = []
    t0 = time.perf_counter()
    for name in names:
        print(f"[{name}] running…", flush=True)
        try:
            rows += importlib.import_module(BENCHES[name]).run(repeats=args.repeats)
        except Exception as exc:  # one broken benchmark must not lose the others' figures
            traceback.print_exc()
            rows.append(Row(name, f"FAILED: {type(exc).__name__}: {str(exc).splitlines()[0][:80]}", "-"))
            failed.append(name)
    text = table(rows)
    print()
    print(f"Machine: {machine()}")
    print(text)
    print(f"({time.perf_counter() - t0:.0f} s; medians of {args.repeats} repeats)")
    (ARTIFACTS / "table.md").write_text(text + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
