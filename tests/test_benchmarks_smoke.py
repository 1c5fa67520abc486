"""Smoke tests of the benchmarks' code paths.

``benchmarks/run.py --smoke`` runs the scaled-down speed workloads without
PyTorch; the tests check the structure of the report, the JSON file and the
printed table. ``benchmarks/tabular.py --quick`` runs the real-data benchmark
on a few bundled and synthetic sets with 3 folds and capped fits; the tests
check the JSON report's shape, that every score is finite and that the summary
follows from the per-dataset scores. Timings and score levels are never
asserted.
"""

import importlib.util
import json
import math
from pathlib import Path

import pytest

from sknn import NNClassifier, NNRegressor

RUN_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
TRAINING = ["W1", "W2", "W2-f64", "W3", "W4"]
TABULAR_PY = RUN_PY.with_name("tabular.py")
CONTENDERS = ["sknn", "recipe", "mlp", "hgb"]


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


# ---------------------------------------------------------------- tabular.py
@pytest.fixture(scope="module")
def tabular():
    spec = importlib.util.spec_from_file_location("sknn_benchmarks_tabular", TABULAR_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tabular_quick(tabular, tmp_path_factory):
    path = tmp_path_factory.mktemp("tabular") / "tabular.json"
    report = tabular.main(["--quick", "--out", str(path)])
    return report, json.loads(path.read_text())


def test_json_report_has_every_dataset_and_contender(tabular, tabular_quick):
    report, loaded = tabular_quick
    assert loaded == json.loads(json.dumps(report))
    assert loaded["settings"]["mode"] == "quick"
    assert loaded["settings"]["folds"] == 3
    assert loaded["settings"]["contenders"] == CONTENDERS
    expected = [d.name for d in tabular.DATASETS if d.quick]
    assert [d["name"] for d in loaded["datasets"]] == expected
    assert {d["task"] for d in loaded["datasets"]} == {
        "binary",
        "multiclass",
        "regression",
    }
    metric = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}
    for d in loaded["datasets"]:
        assert d["metric"] == metric[d["task"]]
        assert d["n"] <= loaded["settings"]["max_rows"]
        assert d["subsampled"] == (d["n_original"] > d["n"])
        assert d["d_encoded"] >= d["n_numeric"] + d["n_categorical"] > 0
        assert set(d["contenders"]) == set(CONTENDERS)
        for entry in d["contenders"].values():
            assert len(entry["scores"]) == len(entry["fit_times"]) == 3
            assert all(math.isfinite(s) for s in entry["scores"])
            assert all(t > 0 for t in entry["fit_times"])
            assert entry["mean"] == pytest.approx(sum(entry["scores"]) / 3)
            assert entry["convergence_warnings"] >= 0
    assert loaded["rejected"] and all(r["reason"] for r in loaded["rejected"])


def test_classification_scores_are_bounded(tabular_quick):
    for d in tabular_quick[1]["datasets"]:
        if d["task"] != "regression":
            for entry in d["contenders"].values():
                assert all(0 <= s <= 100 for s in entry["scores"])


def test_capped_fits_are_counted_as_convergence_warnings(tabular_quick):
    # --quick caps max_iter, so the MLPs stop early and say so; HGB never warns.
    datasets = tabular_quick[1]["datasets"]
    assert sum(d["contenders"]["mlp"]["convergence_warnings"] for d in datasets) > 0
    assert sum(d["contenders"]["hgb"]["convergence_warnings"] for d in datasets) == 0


def test_summary_matches_the_per_dataset_scores(tabular, tabular_quick):
    loaded = tabular_quick[1]
    datasets, summary = loaded["datasets"], loaded["summary"]
    assert summary["n_datasets"] == len(datasets)
    hgb_wins = [
        d
        for d in datasets
        if d["contenders"]["hgb"]["mean"] > d["contenders"]["mlp"]["mean"] + tabular.TIE
    ]
    assert summary["hgb_beats_mlp_on"] == [d["name"] for d in hgb_wins]
    for name, entry in summary["contenders"].items():
        means = [d["contenders"][name]["mean"] for d in datasets]
        assert entry["mean_score"] == pytest.approx(sum(means) / len(means))
        diffs = [m - d["contenders"]["mlp"]["mean"] for m, d in zip(means, datasets)]
        assert entry["beats_mlp"] == sum(x > tabular.TIE for x in diffs)
        assert entry["loses_to_mlp"] == sum(x < -tabular.TIE for x in diffs)
    contenders = summary["contenders"]
    assert contenders["mlp"]["beats_mlp"] == contenders["mlp"]["loses_to_mlp"] == 0
    if hgb_wins:
        assert contenders["hgb"]["gap_closed"] == pytest.approx(1.0)
        assert contenders["mlp"]["gap_closed"] == pytest.approx(0.0)


def test_table_and_summary_text(tabular, tabular_quick):
    report = tabular_quick[0]
    text = tabular.table(report)
    assert text.startswith("| dataset | task | n | num | cat | d |")
    for d in report["datasets"]:
        assert f"| {d['name']} |" in text
    assert "subsampled to 150 rows" in text
    summary = tabular.summary_text(report)
    for name in CONTENDERS:
        assert f"| {name} |" in summary


def test_recipe_option_is_a_dict_of_estimator_parameters(tabular):
    params = tabular.parse_recipe(
        "dict(optimizer=AdamW(weight_decay=1e-3), dropout=0.2)"
    )
    # Both estimators get the expression's parameters.
    assert params["classifier"] is params["regressor"]
    assert params["classifier"]["dropout"] == 0.2
    assert params["classifier"]["optimizer"].weight_decay == 1e-3
    for classification in (True, False):
        est = tabular.make_estimator("recipe", classification, params)
        assert est.get_params()["dropout"] == 0.2


def test_recipe_contender_is_the_named_recipe_of_each_estimator(tabular):
    for classification, cls in ((True, NNClassifier), (False, NNRegressor)):
        est = tabular.make_estimator("recipe", classification, tabular.RECIPE)
        expected = cls.from_recipe("tabular", random_state=tabular.SEED)
        assert type(est) is cls and repr(est) == repr(expected)
    with pytest.raises(TypeError, match="--recipe must evaluate to a dict"):
        tabular.parse_recipe("(1, 2)")


def test_unknown_names_are_refused(tabular):
    with pytest.raises(SystemExit):
        tabular.main(["--quick", "--datasets", "no_such_set"])
    with pytest.raises(SystemExit):
        tabular.main(["--quick", "--contenders", "sknn,torch"])


def test_a_set_whose_package_is_missing_is_skipped_and_named(tabular):
    missing = tabular.Dataset(
        "missing", "binary", "nowhere", None, requires="sknn_no_such_package"
    )
    results, skipped, _ = tabular.run(
        [missing], ["hgb"], {}, 3, 100, 1, log=lambda *args: None
    )
    assert results == []
    assert skipped[0]["name"] == "missing"
    assert "sknn_no_such_package" in skipped[0]["reason"]


# ---------------------------------------------------------------- compare.py
def test_compare_times_both_checkouts_alternately(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "sknn_benchmarks_compare", RUN_PY.with_name("compare.py")
    )
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    path = tmp_path / "times.json"
    root = RUN_PY.parent.parent
    times = compare.main(
        ["--base", str(root), "--rounds", "2", "--workloads", "W1", "--smoke"]
        + ["--json", str(path)]
    )
    assert json.loads(path.read_text()) == times
    assert set(times) == {"W1"}
    assert len(times["W1"]["base"]) == len(times["W1"]["head"]) == 2
    assert all(s > 0 for side in times["W1"].values() for s in side)
