"""sknn's training speed at two checkouts, side by side in one run.

Run from the repository root, with another checkout (e.g. the commit before a
change, ``git worktree add ../base HEAD~1``) beside it::

    python benchmarks/compare.py --base ../base            # run.py's quick workloads
    python benchmarks/compare.py --base ../base --rounds 7 --workloads W1 W3

Each round times every workload once at each checkout, in a fresh process for
each (so each imports its own sknn), the order alternating between rounds,
with one BLAS thread unless ``--threads`` says otherwise. A
process builds the data, runs one untimed warm-up epoch, then times the fit.
The workloads, epochs and data are ``benchmarks/run.py``'s ``--quick`` ones, read
from this checkout for both sides. Printed: per workload the median time of
each side with its min-max range, the ratio of the medians (this checkout /
base) and the median of the per-round ratios.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEAD = HERE.parent

# Runs in the child: time one workload with the sknn found on PYTHONPATH.
_CHILD = """
import importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("sknn_bench_run", sys.argv[1])
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)
name = sys.argv[2]
cfg = run.MODES[sys.argv[3]]
X, y = run.make_data(cfg)[name]
task, hidden, batch = next(
    (t, h, b) for n, t, h, b in run.workloads(cfg) if n == name
)
run.fit_sknn(task, hidden, batch, 1, X[: 4 * batch], y[: 4 * batch])  # warm-up
start = time.perf_counter()
run.fit_sknn(task, hidden, batch, cfg["epochs"][name], X, y)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def time_once(checkout, workload, mode="quick", threads=1):
    """Seconds of one fit of ``workload`` with the sknn of ``checkout``."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(HERE / "run.py"), workload, mode],
        env=env,
        cwd=str(checkout),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def compare(base, workloads, rounds, mode="quick", threads=1, log=print):
    """``{workload: {"base": [s...], "head": [s...]}}``, alternating sides."""
    times = {w: {"base": [], "head": []} for w in workloads}
    sides = [("base", base), ("head", HEAD)]
    for r in range(rounds):
        order = sides if r % 2 == 0 else sides[::-1]
        for w in workloads:
            for side, checkout in order:
                seconds = time_once(checkout, w, mode, threads)
                times[w][side].append(seconds)
                log(f"round {r + 1} {w:6s} {side}: {seconds:.3f} s")
    return times


def table(times):
    lines = [
        f"{'workload':8s} {'base median':>12s} {'head median':>12s} "
        f"{'head/base':>10s} {'paired':>8s}"
    ]
    for w, t in times.items():
        b, h = statistics.median(t["base"]), statistics.median(t["head"])
        paired = statistics.median(x / y for x, y in zip(t["head"], t["base"]))
        lines.append(
            f"{w:8s} {b:10.3f} s {h:10.3f} s {h / b:10.3f} {paired:8.3f}"
            f"   (base {min(t['base']):.3f}-{max(t['base']):.3f},"
            f" head {min(t['head']):.3f}-{max(t['head']):.3f})"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--workloads", nargs="+", default=["W1", "W2", "W3", "W4"], metavar="W"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads of each fit (default 1: on a shared machine, threads "
        "that wait on each other are most of the noise)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="run.py's tiny smoke workloads (checks the code path; no meaning)",
    )
    parser.add_argument("--json", metavar="PATH", help="write the times here")
    args = parser.parse_args(argv)
    base = Path(args.base).resolve()
    if not (base / "sknn" / "__init__.py").is_file():
        parser.error(f"--base {args.base}: no sknn package there")
    mode = "smoke" if args.smoke else "quick"
    times = compare(
        base,
        args.workloads,
        args.rounds,
        mode,
        args.threads,
        log=lambda m: print(m, flush=True),
    )
    print()
    print(table(times))
    if args.json:
        Path(args.json).write_text(json.dumps(times, indent=2))
    return times


if __name__ == "__main__":
    main()
