"""Time per epoch of sknn, scikit-learn and PyTorch, from epyc-2vcpu.csv."""

import csv
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
WORKLOADS = ["W1", "W3", "W4", "W2", "W2-f64"]
CONTENDERS = ["sknn", "scikit-learn", "PyTorch"]

with open(HERE / "epyc-2vcpu.csv", newline="") as fh:
    rows = [r for r in csv.DictReader(fh) if r["blas_kernels"] == "default"]
value = {(r["workload"], r["contender"]): r for r in rows}

fig, ax = plt.subplots(figsize=(8, 4.2))
y = np.arange(len(WORKLOADS))
height = 0.26
for i, contender in enumerate(CONTENDERS):
    r = [value[w, contender] for w in WORKLOADS]
    median = np.array([float(x["median"]) for x in r])
    err = [
        median - [float(x["min"]) for x in r],
        [float(x["max"]) for x in r] - median,
    ]
    ax.barh(y + (i - 1) * height, median, height, xerr=err, label=contender)
ax.set_yticks(y, WORKLOADS)
ax.invert_yaxis()
ax.set_xscale("log")
ax.set_xlabel("milliseconds per epoch (log scale; lines: min to max)")
ax.legend(loc="upper right")
ax.set_title("time per epoch, 2 vCPUs, same network and data for each")
fig.tight_layout()
