"""The example scripts and the documentation run and print what they claim.

- Every script in ``examples/`` runs in a subprocess, must exit with status 0
  and must print its expected lines.
- The ``python`` blocks of each page in ``DOC_PAGES`` run in order, in one
  fresh interpreter per page (a page's blocks share one namespace). A ``text``
  block directly after a ``python`` block is that block's exact output.
- The API reference gives every built-in component and both estimators with
  their full signature, and the pages' relative links and anchors resolve.

The subprocesses of the selected tests start together, so that they overlap,
each with single-threaded BLAS (several spinning BLAS threads per process would
compete for the cores); the tests then wait for their own.
"""

import ast
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sknn
import sknn.testing
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
    "custom_component.py": [
        r"registered activations: .*\bswish\b.*",
        r"registered schedules: .*\blinear\b.*",
        r"check_activation\(Swish\(beta=1\.5\)\): passed",
        r"check_activation\(Swish\(beta=0\.5\)\): passed",
        r"check_schedule\(LinearDecay\(\)\): passed",
        r"check_activation\(BrokenSwish\(\)\): failed as expected: BrokenSwish\(\): "
        r"backward\(grad, a, z\) must multiply grad in place by f'\(z\).*",
        r"held-out accuracy with activation='swish', lr_schedule='linear': 0\.9\d\d",
        r"learning rate: epoch 1 0\.0100, epoch 60 0\.0010",
        r"best activation__beta: (0\.5|1\.0|2\.0) \(cross-validated accuracy "
        r"0\.9\d\d\)",
    ],
    "regression_and_schedules.py": [
        r" *epoch +train_loss +valid_loss +valid_score +lr +dur",
        r"stopped after \d+ epochs: .+",
        r"learning rate, epochs 1-8: 0\.0017, 0\.0033, 0\.0050, 0\.0067, 0\.0083, "
        r"0\.0100, 0\.0100, 0\.0100",
        r"best epoch \d+: validation R\^2 (0\.\d{3}) \(best_validation_score_ = \1\)",
        r"test R\^2: 0\.[2-6]\d\d",
    ],
}

DOC_PAGES = ["index.md", "user_guide.md", "components.md", "api.md"]

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
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    procs, results = {}, {}

    def start(name):
        cwd = tmp_path_factory.mktemp(name.replace(".", "_"))
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
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED_LINES)


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
def _calls(text, name):
    """Keyword arguments of every ``name(...)`` call written in ``text``."""
    for match in re.finditer(rf"\b{re.escape(name)}\(", text):
        depth, end = 0, None
        for i in range(match.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0:
                end = i + 1
                break
        if end is None:
            continue
        source = re.sub(r"\s+", " ", text[match.start() : end]).replace("*, ", "")
        try:
            call = ast.parse(source, mode="eval").body
            yield {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
        except (SyntaxError, ValueError):
            continue


def _defaults(cls):
    params = inspect.signature(cls.__init__).parameters.values()
    return {
        p.name: p.default
        for p in params
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def _builtin_components():
    for kind, registry in REGISTRIES.items():
        for name in registry.names():
            cls = registry.get(name)
            if cls.__module__ == f"sknn.{kind}":
                yield name, cls


def test_api_reference_gives_every_signature():
    text = _read("api.md")
    classes = [cls for _, cls in _builtin_components()]
    classes += [sknn.NNClassifier, sknn.NNRegressor]
    for cls in classes:
        expected = _defaults(cls)
        found = list(_calls(text, cls.__name__))
        assert expected in found, (
            f"docs/api.md does not give {cls.__name__}'s signature {expected}; it "
            f"has {found}"
        )


def test_api_reference_names_every_public_name():
    text = _read("api.md")
    names = [*sknn.__all__, *sknn.testing.__all__]
    names += [name for name, _ in _builtin_components()]
    missing = [name for name in names if f"`{name}" not in text]
    assert not missing, f"docs/api.md does not mention {missing}"


# ---------------------------------------------------------------------- links
def _anchors(text):
    """GitHub's anchors for the headings of a Markdown page."""
    text = _FENCE.sub("", text)
    anchors = set()
    for heading in re.findall(r"^#+ +(.+?) *$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


@pytest.mark.parametrize("page", DOC_PAGES)
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
