"""Smoke test of the benchmark's code path (benchmarks/run.py --smoke).

It runs the scaled-down workloads without PyTorch and checks the structure of
the report, the JSON file and the printed table. Timings are never asserted.
"""

import importlib.util
import json
import math
from pathlib import Path

import pytest

RUN_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
TRAINING = ["W1", "W2", "W2-f64", "W3", "W4"]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("sknn_benchmarks_run", RUN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke(bench, tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "bench.json"
    report = bench.main(["--smoke", "--no-torch", "--json", str(path)])
    return report, path


def _check_summary(entry):
    assert set(entry) >= {"median", "min", "max", "n"}
    assert entry["n"] >= 1
    assert entry["min"] <= entry["median"] <= entry["max"]
    assert entry["min"] > 0


def test_training_workloads_report_medians_ratios_and_parity(smoke):
    report, _ = smoke
    results = report["results"]
    for name in TRAINING:
        entry = results[name]
        assert entry["unit"] == "s/epoch"
        assert set(entry["contenders"]) >= {"sknn", "sklearn"}
        assert "torch" not in entry["contenders"]
        for summary in entry["contenders"].values():
            _check_summary(summary)
        sknn, sklearn = (entry["contenders"][k]["median"] for k in ("sknn", "sklearn"))
        assert entry["ratios"]["sknn/sklearn"] == pytest.approx(sknn / sklearn)
        per_round = [
            a / b
            for a, b in zip(
                entry["contenders"]["sknn"]["values"],
                entry["contenders"]["sklearn"]["values"],
            )
        ]
        assert entry["paired"]["sknn/sklearn"]["values"] == pytest.approx(per_round)
        losses = entry["parity"]["loss"]
        assert all(math.isfinite(v) for v in losses.values())
        rel = losses["sknn"] / losses["sklearn"] - 1
        assert entry["parity"]["rel_diff"] == pytest.approx(rel)
        assert entry["parity"]["ok"] == (abs(rel) <= 0.02)
    assert results["W2"]["dtype"] == "float32"
    assert results["W2-f64"]["dtype"] == "float64"


def test_gemm_floor_is_measured_beside_w2(smoke):
    report, _ = smoke
    for name in ("W2", "W2-f64"):
        entry = report["results"][name]
        _check_summary(entry["contenders"]["floor"])
        floor, sknn = (entry["contenders"][k]["median"] for k in ("floor", "sknn"))
        assert entry["ratios"]["floor/sknn"] == pytest.approx(floor / sknn)
        if "sknn-numpy" in entry["contenders"]:  # numba installed
            numpy_loops = entry["contenders"]["sknn-numpy"]["median"]
            ratio = entry["ratios"]["sknn/sknn-numpy"]
            assert ratio == pytest.approx(sknn / numpy_loops)


def test_prediction_and_memory_sections(smoke):
    results = smoke[0]["results"]
    p1, p2, m1 = results["P1"], results["P2"], results["M1"]
    assert p1["unit"] == "rows/s" and p1["rows"] > 0
    for summary in p1["contenders"].values():
        _check_summary(summary)
    assert p2["unit"] == "s/call" and p2["contenders"]["sknn"]["n"] == p2["calls"]
    assert m1["peak"]["sknn"] > 0 and m1["peak"]["sklearn"] > 0
    assert m1["limit"] == pytest.approx(0.3 * m1["X_nbytes"] + 64 * 2**20)


def test_every_target_is_evaluated(bench, smoke):
    targets = smoke[0]["targets"]
    assert [t["target"] for t in targets] == [t[0] for t in bench.TARGETS]
    for t in targets:
        if "torch" in t["target"]:  # PyTorch is left out of the smoke run
            assert t["value"] is None and t["pass"] is None
            continue
        assert t["value"] is not None and isinstance(t["pass"], bool)
        op, limit = t["limit"].split()
        assert t["pass"] == (
            t["value"] <= float(limit) if op == "<=" else t["value"] >= float(limit)
        )


def test_json_and_table_output(bench, smoke, capsys):
    report, path = smoke
    assert json.loads(path.read_text()) == json.loads(json.dumps(report, default=float))
    env = report["environment"]
    assert env["mode"] == "smoke" and env["blas"] and "torch" not in env
    for probe in (env["probe_start"], env["probe_end"]):
        assert probe["sgemm_gflops"] > 0 and probe["stream_gbs"] > 0
    text = bench.table(report)
    assert text.startswith("| measurement | sknn | sklearn | torch |")
    for label in (
        "W1 epoch",
        "W2 epoch (float32)",
        "W2 epoch (float64)",
        "W3 epoch",
        "W4 epoch",
        "P1 predict",
        "P2 single-row",
        "GEMM-only floor",
        "M1 peak",
    ):
        assert label in text
    for t in report["targets"]:
        assert t["what"] in text
    assert "BLAS:" in bench.describe(report)


def test_description_says_when_openblas_kernels_are_forced(bench, smoke):
    report, _ = smoke
    env = dict(report["environment"])
    env["env_vars"] = {}
    assert "forces OpenBLAS" not in bench.describe({"environment": env})
    env["env_vars"] = {"OPENBLAS_CORETYPE": "Haswell"}
    text = bench.describe({"environment": env})
    assert "OPENBLAS_CORETYPE=Haswell forces OpenBLAS's kernels" in text
    assert "env -u OPENBLAS_CORETYPE" in text
