"""Write the intersphinx inventories that the documentation links through.

The documentation must build without network access, so it cannot download
the ``objects.inv`` files of Python, NumPy, SciPy, scikit-learn and matplotlib.
This script writes them instead, from the packages installed in the current
environment: it imports each package, lists its public names, and gives each
name the address that its project's documentation uses for it (for example
``modules/generated/sklearn.pipeline.Pipeline.html`` on scikit-learn's site).
The addresses are those of the installed versions' documentation.

Only public, importable objects are listed; methods and attributes are not.
Re-run it after upgrading one of these packages (it needs ``sphobjinv``)::

    pip install sphobjinv
    python docs/intersphinx/build_inventories.py
"""

import builtins
import importlib
import inspect
import sys
from pathlib import Path

import numpy
import scipy
import sklearn
import sphobjinv as soi

HERE = Path(__file__).resolve().parent


def _minor(version):
    return ".".join(version.split(".")[:2])


def _public(module):
    names = getattr(module, "__all__", None)
    if names is None:  # only what the module defines, not what it imports
        names = [
            n
            for n in dir(module)
            if getattr(getattr(module, n), "__module__", "").startswith(module.__name__)
        ]
    public = []
    for name in names:
        try:
            getattr(module, name)
        except (AttributeError, ImportError):  # experimental, not enabled
            continue
        if not name.startswith("_"):
            public.append(name)
    return public


def _role(obj):
    if inspect.ismodule(obj):
        return None
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if callable(obj):
        return "function"
    return "data"


class Writer:
    def __init__(self, project, version):
        self.inv = soi.Inventory()
        self.inv.project, self.inv.version = project, version
        self.seen = set()

    def add(self, name, role, uri, domain="py"):
        if (domain, role, name) in self.seen:
            return
        self.seen.add((domain, role, name))
        uri = uri.replace("$", name)  # "$" stands for the object's name
        self.inv.objects.append(
            soi.DataObjStr(
                name=name,
                domain=domain,
                role=role,
                priority="1",
                uri=uri,
                dispname="-",
            )
        )

    def add_module(self, modname, uri_of, roles=("class", "exception", "function")):
        module = importlib.import_module(modname)
        self.add(modname, "module", uri_of(modname, None))
        for name in _public(module):
            role = _role(getattr(module, name))
            if role in roles:
                full = f"{modname}.{name}"
                self.add(full, role, uri_of(modname, full))

    def write(self, filename):
        data = soi.compress(self.inv.data_file(contract=True))
        soi.writebytes(str(HERE / filename), data)
        print(f"{filename}: {len(self.inv.objects)} objects")


def python():
    w = Writer("Python", _minor(sys.version.split()[0]))
    stdtypes = {"str", "list", "tuple", "dict", "set", "frozenset", "bytes", "range"}
    for name in dir(builtins):
        obj = getattr(builtins, name)
        if name.startswith("_"):
            continue
        role = _role(obj)
        if role == "exception":
            w.add(name, role, "library/exceptions.html#$")
        elif role == "class" and name in stdtypes:
            w.add(name, role, "library/stdtypes.html#$")
        elif role in ("class", "function"):
            w.add(name, role, "library/functions.html#$")
    for name in ("None", "True", "False", "NotImplemented", "Ellipsis"):
        w.add(name, "data", "library/constants.html#$")
    w.add("bltin-boolean-values", "label", "library/stdtypes.html#$", domain="std")
    for term in (
        "iterable",
        "sequence",
        "generator",
        "file object",
        "path-like object",
        "callable",
        "mapping",
    ):
        w.add(term, "term", f"glossary.html#term-{term.replace(' ', '-')}", "std")
    for modname in (
        "os",
        "pathlib",
        "pickle",
        "io",
        "warnings",
        "time",
        "collections",
        "contextlib",
        "importlib.metadata",
        "zipfile",
        "json",
        "typing",
        "numbers",
    ):
        page = modname
        w.add_module(
            modname,
            lambda mod, full, page=page: (
                f"library/{page}.html#" + (f"module-{mod}" if full is None else "$")
            ),
        )
    w.write("python.inv")


def numpy_():
    w = Writer("NumPy", _minor(numpy.__version__))
    generated = "reference/generated/$.html#$"
    w.add("numpy", "module", "reference/index.html#module-numpy")
    for name in _public(numpy):
        obj = getattr(numpy, name)
        role = _role(obj)
        full = f"numpy.{name}"
        if inspect.isclass(obj) and issubclass(obj, numpy.generic):
            w.add(full, "class", "reference/arrays.scalars.html#$")
        elif isinstance(obj, numpy.ufunc):
            w.add(full, "data", generated)
        elif role == "data" and isinstance(obj, float):
            w.add(full, "data", "reference/constants.html#$")
        elif role in ("class", "function", "exception"):
            w.add(full, role, generated)
    for name in ("RandomState", "Generator", "SeedSequence", "default_rng"):
        role = _role(getattr(numpy.random, name))
        w.add(f"numpy.random.{name}", role, "reference/random/generated/$.html#$")
    w.add("numpy.typing.ArrayLike", "data", "reference/typing.html#$")
    w.add("numpy.typing.DTypeLike", "data", "reference/typing.html#$")
    w.add("array_like", "term", "glossary.html#term-array_like", "std")
    w.add(
        "arrays.scalars", "label", "reference/arrays.scalars.html#arrays-scalars", "std"
    )
    w.write("numpy.inv")


def scipy_():
    w = Writer("SciPy", _minor(scipy.__version__))
    for modname in ("scipy.sparse", "scipy.optimize", "scipy.special"):
        w.add_module(
            modname,
            lambda mod, full: (
                f"reference/{mod.split('.', 1)[1]}.html#module-{mod}"
                if full is None
                else "reference/generated/$.html#$"
            ),
        )
    w.write("scipy.inv")


def sklearn_():
    w = Writer("scikit-learn", _minor(sklearn.__version__))
    w.add("sklearn", "module", "api/index.html#module-sklearn")
    for sub in sklearn.__all__:
        modname = f"sklearn.{sub}"
        try:
            module = importlib.import_module(modname)
        except ImportError:
            continue
        if not inspect.ismodule(module):
            continue
        w.add_module(
            modname,
            lambda mod, full: (
                f"api/{mod}.html#module-{mod}"
                if full is None
                else "modules/generated/$.html#$"
            ),
        )
    w.add("sklearn.base.BaseEstimator", "class", "modules/generated/$.html#$")
    for term in (
        "estimator",
        "random_state",
        "partial_fit",
        "warm_start",
        "early stopping",
        "sample_weight",
        "class_weight",
        "multilabel",
        "multioutput",
        "display",
        "meta-estimator",
        "metadata routing",
    ):
        slug = term.replace(" ", "-")
        w.add(term, "term", f"glossary.html#term-{slug}", "std")
    w.add("metadata_routing", "label", "metadata_routing.html#metadata-routing", "std")
    w.write("sklearn.inv")


def matplotlib_():
    import matplotlib

    w = Writer("Matplotlib", _minor(matplotlib.__version__))
    # The classes that sknn's Displays return, and the method they pass
    # keyword arguments to, by their documented names.
    for name in (
        "matplotlib.axes.Axes",
        "matplotlib.figure.Figure",
        "matplotlib.lines.Line2D",
    ):
        importlib.import_module(name.rsplit(".", 1)[0])  # exists in this version
        w.add(name, "class", "api/_as_gen/$.html#$")
    w.add("matplotlib.axes.Axes.plot", "method", "api/_as_gen/$.html#$")
    w.write("matplotlib.inv")


if __name__ == "__main__":
    python()
    numpy_()
    scipy_()
    sklearn_()
    matplotlib_()
