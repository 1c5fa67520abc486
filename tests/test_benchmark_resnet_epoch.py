"""Smoke test of benchmarks/resnet_epoch.py: the code path runs; no timing asserted."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "resnet_epoch.py"


def test_resnet_epoch_smoke_reports_a_median_and_trains():
    spec = importlib.util.spec_from_file_location("sknn_bench_resnet", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = module.main(["--smoke", "--no-torch"])
    s = report["sknn"]
    assert s["n"] == 1 and 0 < s["min"] <= s["median"] <= s["max"]
    # It trains: the second epoch's mean loss is below the first's.
    cfg = module.SMOKE
    X, y = module.make_data(cfg)
    model = module.SknnResNet(cfg, X, y)
    first, second = model.epoch(), model.epoch()
    assert second < first
