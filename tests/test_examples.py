"""The example scripts and the documentation run and print what they claim.

- Every script in ``examples/`` runs in a subprocess, must exit with status 0
  and must print its expected lines.
- The ``python`` blocks of each page in ``DOC_PAGES`` run in order, in one
  fresh interpreter per page (a page's blocks share one namespace). A ``text``
  block directly after a ``python`` block is that block's exact output.
- Every example runs with matplotlib's Agg backend (headless).
- The API reference gives every public object a generated page and every
  registered name its class, and the pages' relative links and anchors resolve.

The subprocesses of the selected tests start together, so that they overlap,
each with single-threaded BLAS (several spinning BLAS threads per process would
compete for the cores); the tests then wait for their own.
"""

import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sknn
from sknn._registry import REGISTRIES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
TIMEOUT = 300

# Lines each script must print: regular expressions matched against whole lines.
EXPECTED_LINES = {
    "quickstart.py": [
        r"grid search: 8 candidates x 3 folds in \d+\.\d s",
        r"best cross-validated accuracy: 0\.9\d\d",
        r"held-out test accuracy: 0\.9\d\d",
    ],
    "training/optimizers_and_schedules.py": [
        rf"{name} +\d+ epochs, best validation accuracy 0\.9\d\d"
        for name in [
            "SGD",
            "Adam",
            "AdamW",
            "RMSprop",
            "Adagrad",
            "constant",
            "invscaling",
            "step",
            "exponential",
            "cosine",
        ]
    ],
    "training/early_stopping.py": [
        r"without early stopping: \d+ epochs",
        r"with early stopping: \d+ epochs, best epoch \d+ \(validation accuracy "
        r"0\.\d{3}\)",
        r"test accuracy without early stopping: 0\.7\d\d",
        r"test accuracy with early stopping \(best epoch's weights\): 0\.[78]\d\d",
        r"with X_val and y_val: \d+ epochs, best validation accuracy (0\.\d{3}), "
        r"the restored weights score \1 on X_val",
        r"test accuracy: 0\.[78]\d\d",
    ],
    "training/streaming_partial_fit.py": [
        r"40 chunks, 20000 rows seen, 40 history records",
        r"held-out accuracy after the last chunk: 0\.9\d\d",
    ],
    "training/class_weight.py": [
        r"class_weight=None: recall of the rare class 0\.[0-3]\d\d, .*",
        r"class_weight='balanced': recall of the rare class 0\.[6-9]\d\d, "
        r"balanced accuracy 0\.[89]\d\d",
    ],
    "training/regression_with_callbacks.py": [
        r" *epoch +train_loss +valid_loss +valid_score +lr +dur",
        r"stopped after \d+ epochs: .+",
        r"learning rate, epochs 1-8: 0\.0017, 0\.0033, 0\.0050, 0\.0067, 0\.0083, "
        r"0\.0100, 0\.0100, 0\.0100",
        r"best epoch \d+: validation R\^2 (0\.\d{3}) \(best_validation_score_ = \1\)",
        r"test R\^2: 0\.[2-6]\d\d",
    ],
    "data/multilabel_and_multioutput.py": [
        r"Y has shape \(2000, 5\); predict_proba gives \(500, 5\)",
        r"output activation: logistic",
        r"F1 per label: (0\.[5-9]\d, ){4}0\.[5-9]\d",
        r"Y has shape \(20, 3\); predict gives \(20, 3\)",
    ],
    "data/sparse_text.py": [
        r"X: csr_matrix, shape \(1500, \d+\), \d\.\d% non-zero",
        r"test accuracy: 0\.9\d\d",
    ],
    "extending/custom_components.py": [
        r"registered activations: .*\bswish\b.*",
        r"registered optimizers: .*\badamax\b.*",
        r"check_activation\(Swish\(beta=1\.5\)\): passed",
        r"check_activation\(Swish\(beta=0\.5\)\): passed",
        r"check_optimizer\(AdaMax\(learning_rate=0\.01\)\): passed",
        r"check_activation\(BrokenSwish\(\)\): failed as expected: BrokenSwish\(\): "
        r"backward\(grad, a, z\) must multiply grad in place by f'\(z\).*",
        r"held-out accuracy with activation='swish', optimizer='adamax': 0\.9\d\d",
        r"best activation__beta: (0\.5|1\.0|2\.0), optimizer__learning_rate: "
        r"0\.0(02|1) \(cross-validated accuracy 0\.9\d\d\)",
    ],
    "models/compare_with_mlpclassifier.py": [
        r"largest relative difference between the loss curves: \d\.\de-(1\d|0[6-9])",
        r"same first-layer weights after 40 epochs: True",
        r"sknn / scikit-learn time per epoch: \d+\.\d\d",
    ],
    "models/save_and_load.py": [
        r"identical predicted probabilities: True",
        r"same weights after 5 more epochs each: True",
    ],
}

DOC_PAGES = [
    "index.md",
    "getting_started.md",
    "migration.md",
    "user_guide.md",
    "tabular.md",
    "components.md",
]
# Pages whose relative links must resolve.
LINKED_PAGES = [*DOC_PAGES, "api.md", "why.md", "plugins.md", "performance.md"]

_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_MARK = "@@sknn-doc-block {}@@"


def doc_blocks(text):
    """``(line, code, expected)`` for each python block of a Markdown page.

    ``expected`` is the body of a ``text`` block that directly follows the
    python block (only blank lines between them), else None.
    """
    blocks, last_end, previous = [], 0, None
    for match in _FENCE.finditer(text):
        lang, body = match.group(1), match.group(2)
        adjacent = text[last_end : match.start()].strip() == ""
        if lang == "python":
            line = text.count("\n", 0, match.start()) + 1
            blocks.append((line, body, None))
        elif lang == "text" and adjacent and previous == "python":
            blocks[-1] = (*blocks[-1][:2], body)
        previous, last_end = lang, match.end()
    return blocks


def _doc_program(page):
    program = []
    for i, (line, code, _) in enumerate(doc_blocks(_read(page))):
        program.append(f"print({_MARK.format(i)!r}, flush=True)")
        program.append(f"# docs/{page}, line {line}")
        program.append(code)
    return "\n".join(program)


def _read(page):
    return (DOCS / page).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """``runs(name) -> (stdout, stderr, returncode)`` of an example or a doc page.

    The scripts and pages of every selected test start at once, so that they
    overlap; under pytest-xdist, whose workers share the tests of this module,
    each one starts only when its test asks for it.
    """
    env = dict(os.environ, MPLBACKEND="Agg")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    procs, results = {}, {}

    def start(name):
        cwd = tmp_path_factory.mktemp(re.sub(r"\W", "_", name))
        if name in EXPECTED_LINES:
            script = EXAMPLES / name
        else:
            script = cwd / "doc_blocks.py"
            script.write_text(_doc_program(name), encoding="utf-8")
        procs[name] = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(name):
        if name not in results:
            if name not in procs:
                start(name)
            proc = procs[name]
            try:
                out, err = proc.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                err += f"\n(killed after {TIMEOUT} s)"
            results[name] = (out, err, proc.returncode)
        return results[name]

    if "PYTEST_XDIST_WORKER" not in os.environ:
        for item in request.session.items:
            params = getattr(getattr(item, "callspec", None), "params", {})
            if getattr(item, "module", None) is request.module and "runs" in getattr(
                item, "fixturenames", ()
            ):
                name = params.get("script") or params.get("page")
                if name and name not in procs:
                    start(name)
    yield result
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("script", sorted(EXPECTED_LINES))
def test_example_script_runs_and_prints_its_results(script, runs):
    out, err, returncode = runs(script)
    assert returncode == 0, f"{script} failed:\n{err[-3000:]}"
    lines = out.splitlines()
    for pattern in EXPECTED_LINES[script]:
        assert any(re.fullmatch(pattern, line) for line in lines), (
            f"{script} printed no line matching {pattern!r}; it printed:\n{out}"
        )


def test_every_example_script_is_tested():
    scripts = [p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.py")]
    assert sorted(scripts) == sorted(EXPECTED_LINES)


@pytest.mark.parametrize("page", DOC_PAGES)
def test_doc_code_blocks_run_and_print_what_the_page_shows(page, runs):
    blocks = doc_blocks(_read(page))
    assert blocks, f"docs/{page} has no python code block"
    out, err, returncode = runs(page)
    assert returncode == 0, f"a code block of docs/{page} failed:\n{err[-3000:]}"
    outputs = re.split(r"^@@sknn-doc-block \d+@@\n", out, flags=re.M)[1:]
    assert len(outputs) == len(blocks)
    for (line, _, expected), output in zip(blocks, outputs):
        if expected is not None:
            assert output.rstrip() == expected.rstrip(), (
                f"the block at docs/{page}, line {line} printed:\n{output}\n"
                f"but the page shows:\n{expected}"
            )


def test_doc_blocks_pairs_outputs_with_the_python_block_before_them():
    text = (
        "```python\nprint(1)\n```\n\n```text\n1\n```\n"
        "Prose.\n\n```text\nnot an output\n```\n"
        "```python\nx = 2\n```\nProse.\n```text\nnot an output either\n```\n"
    )
    assert doc_blocks(text) == [(1, "print(1)\n", "1\n"), (13, "x = 2\n", None)]


# ------------------------------------------------------------- API reference
_AUTOSUMMARY = re.compile(
    r"^\.\. currentmodule:: (\S+)\s*\n\s*\n\.\. autosummary::\n((?:   .*\n|\n)*)", re.M
)


def _documented():
    """The objects that docs/api.md gives a generated page, by identity."""
    objects = []
    for module, body in _AUTOSUMMARY.findall(_read("api.md")):
        mod = importlib.import_module(module)
        for line in body.splitlines():
            name = line.strip()
            if name and not name.startswith(":"):
                objects.append(getattr(mod, name))
    return objects


def test_api_reference_gives_every_public_object_a_page():
    documented = _documented()
    modules = [sknn] + [
        importlib.import_module(f"sknn.{info.name}")
        for info in pkgutil.iter_modules(sknn.__path__)
        if not info.name.startswith("_")
    ]
    missing = [
        f"{module.__name__}.{name}"
        for module in modules
        for name in getattr(module, "__all__", ())
        if name != "__version__"
        and not any(getattr(module, name) is obj for obj in documented)
    ]
    assert not missing, f"docs/api.md has no autosummary entry for {missing}"
    assert len({id(obj) for obj in documented}) == len(documented), "listed twice"


def test_api_reference_gives_every_registered_name_its_class():
    text = _read("api.md")
    missing = [
        f"{name} -> {cls.__name__}"
        for name, cls in _builtin_components()
        if f"| `{name}` | {{py:class}}`~{cls.__module__}.{cls.__name__}` |" not in text
    ]
    assert not missing, f"docs/api.md does not give {missing}"


def _builtin_components():
    for kind, registry in REGISTRIES.items():
        for name in registry.names():
            cls = registry.get(name)
            if cls.__module__ == f"sknn.{kind}":
                yield name, cls


# ---------------------------------------------------------------------- links
def _anchors(text):
    """GitHub's anchors for the headings of a Markdown page."""
    text = _FENCE.sub("", text)
    anchors = set()
    for heading in re.findall(r"^#+ +(.+?) *$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


@pytest.mark.parametrize("page", LINKED_PAGES)
def test_relative_links_and_anchors_resolve(page):
    text = _FENCE.sub("", _read(page))
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (DOCS / path).resolve() if path else DOCS / page
        assert file.exists(), f"docs/{page} links to {target}, which does not exist"
        if anchor and file.suffix == ".md":
            assert anchor in _anchors(file.read_text(encoding="utf-8")), (
                f"docs/{page} links to {target}, but {file.name} has no such heading"
            )
