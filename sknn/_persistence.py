"""Safe persistence: save and load estimators in a documented, versioned zip.

A model file is a zip archive holding ``metadata.json`` (the estimator's
class, hyperparameters and fitted attributes as typed JSON) and one ``.npy``
file per array under ``arrays/``. Loading reads JSON and NumPy arrays only
(``np.load(..., allow_pickle=False)``), builds components by looking their
names up in the registries, and never imports or runs anything named by the
file. Anything unexpected raises :class:`ValueError`. The format is specified
in ``docs/persistence.md``.

Examples
--------
>>> import io
>>> import numpy as np
>>> from sknn import NNClassifier
>>> from sknn._persistence import load, save
>>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
>>> clf = NNClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
>>> clf = clf.fit(X, [0, 1, 1, 0])
>>> buffer = io.BytesIO()
>>> save(clf, buffer)
>>> copy = load(io.BytesIO(buffer.getvalue()))
>>> bool((copy.predict_proba(X) == clf.predict_proba(X)).all())
True
"""

import contextlib
import io
import json
import math
import numbers
import os
import re
import secrets
import stat
import zipfile
import zlib

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.preprocessing import LabelBinarizer

from ._base import Component
from ._engine import Layout
from ._network import LayerLayout
from ._registry import REGISTRIES, named_components
from ._state import (
    COMPONENT_KINDS,
    COMPONENT_PARAMS,
    STATE,
    is_fitted,
    pack_weights,
    saved,
)
from ._validation import check_number, check_params
from .estimators import NNClassifier, NNRegressor, _n_outputs
from .layers import Layer

__all__ = ["save", "load", "skops_trusted_types", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "sknn-model"
# 2: the attributes are exactly the declared saved state (sknn._state);
# 1: every non-parameter entry of __dict__. Both are read the same way.
FORMAT_VERSION = 2

_ESTIMATORS = {"NNClassifier": NNClassifier, "NNRegressor": NNRegressor}
_METADATA = "metadata.json"
_ARRAY_MEMBER = re.compile(r"arrays/([A-Za-z0-9_]{1,200})\.npy\Z")
_ARRAY_NAME = re.compile(r"[A-Za-z0-9_]{1,200}\Z")
_ATTR_NAME = re.compile(r"_?[A-Za-z][A-Za-z0-9_]{0,200}\Z")
_SKOPS_SCHEMA = "schema.json"
_MAX_METADATA_BYTES = 64 * 2**20
# Upper bound of the memory one JSON value takes once parsed and decoded
# (measured by tests/test_persistence.py::test_loader_peak_memory_is_bounded).
_JSON_VALUE_BYTES = 128
_MAX_NPY_HEADER = 10_000
_MAX_DEPTH = 100
_ARRAY_DTYPES = "biufc"  # bool, int, uint, float, complex; never object
_LABEL_DTYPES = "biufUO"
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,  # encrypted members
    NotImplementedError,  # unsupported compression
    ValueError,
    OverflowError,
)


def _fail(message):
    raise ValueError(f"Cannot load this sknn model file: {message}")


# --------------------------------------------------------------------- writing
def _component_kind(obj):
    """The registry kind of a component instance or class."""
    cls = obj if isinstance(obj, type) else type(obj)
    for kind, registry in REGISTRIES.items():
        if issubclass(cls, registry.base):
            return kind, registry
    raise ValueError(f"{cls.__qualname__} is not a component of any registered kind.")


def _registered_name(registry, cls, where):
    registry.names()  # loads the entry-point plugins
    names = sorted(n for n, c in registry._classes.items() if c is cls)
    if not names:
        raise ValueError(
            f"Cannot save {where}: its class {cls.__module__}.{cls.__qualname__} is "
            f"not a registered {registry.kind[:-1]}, so a loader could not rebuild it "
            f"without running code named by the file. Register it first, e.g. with "
            f"sknn.register_{registry.kind[:-1]}(name)."
        )
    return names[0]


def _utf8(text, where):
    """``text``, if UTF-8 can encode it (a lone surrogate cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"Cannot save {where}: the string {text!r} is not valid Unicode "
            f"({exc.reason} at position {exc.start}), so it cannot be written "
            "as UTF-8."
        ) from None
    return text


@contextlib.contextmanager
def _atomic_output(path):
    """A binary file to write into; ``path`` is only changed if all goes well.

    A path gets a temporary file in the same folder that replaces it at the
    end; a file object gets everything in one ``write`` at the end. On error
    the old file (or the file object) is left as it was.
    """
    if not isinstance(path, (str, os.PathLike)):
        buffer = io.BytesIO()
        yield buffer
        path.write(buffer.getbuffer())
        return
    target = os.path.realpath(path)  # replace a symlink's target, not the link
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        with os.fdopen(os.open(tmp, flags, 0o666), "wb") as fh:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class _Writer:
    """Encodes Python values as typed JSON; arrays go to ``arrays/*.npy``."""

    def __init__(self):
        self.arrays = {}

    def add_array(self, array, hint):
        base = re.sub(r"[^A-Za-z0-9_]+", "_", hint).strip("_")[:150] or "array"
        name, i = base, 1
        while name in self.arrays:
            name, i = f"{base}_{i}", i + 1
        self.arrays[name] = array
        return name

    def encode(self, value, where, hint, state=False):
        if value is None or isinstance(value, (bool, np.bool_)):
            return None if value is None else bool(value)
        if isinstance(value, str):
            return _utf8(str(value), where)
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            value = float(value)
            if math.isfinite(value):
                return value
            return {"type": "float", "value": repr(value)}  # 'nan', 'inf', '-inf'
        if isinstance(value, list):
            return [
                self.encode(v, f"{where}[{i}]", f"{hint}_{i}", state)
                for i, v in enumerate(value)
            ]
        if isinstance(value, tuple):
            items = [
                self.encode(v, f"{where}[{i}]", f"{hint}_{i}", state)
                for i, v in enumerate(value)
            ]
            return {"type": "tuple", "items": items}
        if isinstance(value, dict):
            items = []
            for i, (k, v) in enumerate(value.items()):
                key = self.encode(k, f"{where} key {k!r}", f"{hint}_k{i}")
                items.append(
                    [key, self.encode(v, f"{where}[{k!r}]", f"{hint}_{k}", state)]
                )
            return {"type": "dict", "items": items}
        if isinstance(value, type) and issubclass(value, Component):
            kind, registry = _component_kind(value)
            return {
                "component_class": kind,
                "name": _registered_name(registry, value, where),
            }
        if isinstance(value, Component):
            return self.encode_component(value, where, hint, state)
        if isinstance(value, np.random.RandomState):
            name, keys, pos, has_gauss, cached = value.get_state(legacy=True)
            if name != "MT19937":  # pragma: no cover - RandomState is always MT19937
                raise ValueError(
                    f"Cannot save {where}: unsupported bit generator {name}."
                )
            return {
                "type": "random_state",
                "keys": self.add_array(
                    np.asarray(keys, dtype=np.uint32), f"{hint}_keys"
                ),
                "pos": int(pos),
                "has_gauss": int(has_gauss),
                "cached_gaussian": self.encode(float(cached), where, hint),
            }
        if isinstance(value, LabelBinarizer):
            if getattr(value, "sparse_output", False):
                raise ValueError(
                    f"Cannot save {where}: sparse_output=True is not supported."
                )
            return {
                "type": "label_binarizer",
                "y_type": str(value.y_type_),
                "classes": self.encode_labels(value.classes_, where),
                "neg_label": int(value.neg_label),
                "pos_label": int(value.pos_label),
            }
        if isinstance(value, np.ndarray):
            if value.dtype.kind in _ARRAY_DTYPES and value.dtype.fields is None:
                return {"type": "ndarray", "array": self.add_array(value, hint)}
            if value.ndim == 1 and value.dtype.kind in "UO":
                return self.encode_labels(value, where)
        raise ValueError(
            f"Cannot save {where}: values of type {type(value).__qualname__} are not "
            "supported by the sknn model format (see docs/persistence.md)."
        )

    def encode_labels(self, array, where):
        """A 1-D array of labels as JSON values plus its dtype."""
        array = np.asarray(array)
        if array.ndim != 1 or array.dtype.kind not in _LABEL_DTYPES:
            raise ValueError(
                f"Cannot save {where}: labels must be a 1-D array of bool, int, float "
                f"or str; got dtype {array.dtype} and shape {array.shape}."
            )
        values = []
        for item in array.tolist():
            if isinstance(item, str):
                values.append(_utf8(item, where))
            elif isinstance(item, (bool, np.bool_)):
                values.append(bool(item))
            elif isinstance(item, numbers.Integral):
                values.append(int(item))
            elif isinstance(item, numbers.Real) and math.isfinite(item):
                values.append(float(item))
            else:
                raise ValueError(
                    f"Cannot save {where}: label {item!r} of type "
                    f"{type(item).__qualname__} is not a bool, int, finite float "
                    "or str."
                )
        dtype = "object" if array.dtype.kind == "O" else array.dtype.str
        return {"type": "labels", "dtype": dtype, "values": values}

    def encode_component(self, value, where, hint, state):
        kind, registry = _component_kind(value)
        node = {
            "component": kind,
            "name": _registered_name(registry, type(value), where),
            "params": {
                k: self.encode(v, f"{where}.{k}", f"{hint}_{k}")
                for k, v in value.get_params(deep=False).items()
            },
        }
        if state:
            params = node["params"]
            node["state"] = {
                k: self.encode(v, f"{where}.{k}", f"{hint}_{k}")
                for k, v in vars(value).items()
                if k not in params
            }
        return node


def save(estimator, path):
    """Save an estimator or a pipeline holding sknn estimators.

    An :class:`NNClassifier` or :class:`NNRegressor` is written in the sknn
    model format (a zip of JSON and ``.npy``); a scikit-learn pipeline or
    other composite estimator holding one is written with ``skops.io``
    (install the ``skops`` extra). The file is written atomically: if saving
    fails, an existing file at ``path`` is left as it was.

    Parameters
    ----------
    estimator : NNClassifier, NNRegressor or scikit-learn estimator
        The estimator, fitted or not. Its component parameters must be
        registered components (built-in or registered with
        ``sknn.register_*``).
    path : str, os.PathLike or binary file object
        Where to write.

    Raises
    ------
    TypeError
        If ``estimator`` is neither an sknn estimator nor a scikit-learn
        estimator holding one.
    ValueError
        If it holds something the format cannot represent, such as an
        unregistered component class, a callable or a string that is not
        valid Unicode; the message names the parameter or attribute. For a
        pipeline: if it holds types that :func:`load` does not trust.
    ImportError
        If a pipeline is saved and skops is not installed.

    See Also
    --------
    load : Read the file back.
    """
    cls = type(estimator)
    if cls not in _ESTIMATORS.values():
        if isinstance(estimator, BaseEstimator) and any(_sknn_estimators(estimator)):
            return _save_skops(estimator, path)
        raise TypeError(
            "save writes NNClassifier and NNRegressor estimators, and scikit-learn "
            "pipelines or other estimators holding them; got "
            f"{cls.__module__}.{cls.__qualname__}."
        )
    from . import __version__

    writer = _Writer()
    params = {
        name: writer.encode(value, f"parameter {name!r}", name)
        for name, value in estimator.get_params(deep=False).items()
    }
    fitted = is_fitted(vars(estimator))
    attributes = {}
    state = vars(estimator)
    for name, attr in saved(cls).items() if fitted else ():
        if name not in state:
            continue
        value, where = state[name], f"attribute {name!r}"
        rng = attr.kind == "random_state" and value is not None
        if rng and value is estimator.random_state:
            attributes[name] = {"type": "same_as_parameter", "name": "random_state"}
        elif attr.kind == "layers":
            attributes[name] = [
                {
                    "type": "ndarray",
                    "array": writer.add_array(np.asarray(a), f"{name}{i}"),
                }
                for i, a in enumerate(value)
            ]
        elif attr.kind == "labels":
            attributes[name] = writer.encode_labels(value, where)
        else:
            attributes[name] = writer.encode(
                value, where, name, state=attr.kind == "components"
            )
    arrays = {
        name: {"dtype": a.dtype.str, "shape": list(a.shape)}
        for name, a in writer.arrays.items()
    }
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "sknn_version": __version__,
        "estimator": cls.__name__,
        "params": params,
        "fitted": fitted,
        "attributes": attributes,
        "arrays": arrays,
    }
    text = json.dumps(metadata, indent=1, allow_nan=False, ensure_ascii=False)

    def member(name):
        # A fixed timestamp: the same model gives the same bytes.
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    with _atomic_output(path) as fh, zipfile.ZipFile(fh, "w") as zf:
        zf.writestr(member(_METADATA), text.encode("utf-8"))
        for name, array in writer.arrays.items():
            buf = io.BytesIO()
            np.save(buf, array, allow_pickle=False)
            zf.writestr(member(f"arrays/{name}.npy"), buf.getvalue())


# --------------------------------------------------------------------- reading
def _strict_json(data):
    def no_constants(name):
        raise ValueError(f"metadata.json contains the non-standard constant {name}")

    def finite_float(text):
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(
                f"metadata.json holds the number {text}, which overflows a float "
                "(non-finite floats are written as float nodes)"
            )
        return value

    def no_duplicates(pairs):
        out = {}
        for key, value in pairs:
            if key in out:
                raise ValueError(f"metadata.json repeats the key {key!r}")
            out[key] = value
        return out

    try:
        text = data.decode("utf-8")
        return json.loads(
            text,
            parse_constant=no_constants,
            parse_float=finite_float,
            object_pairs_hook=no_duplicates,
        )
    except RecursionError:
        _fail("metadata.json is nested too deeply.")
    except ValueError as exc:  # includes UnicodeDecodeError and JSONDecodeError
        _fail(f"metadata.json is not valid JSON: {exc}")


def _keys(node, where, required, optional=()):
    if not isinstance(node, dict):
        _fail(f"{where} must be a JSON object; got {type(node).__name__}.")
    missing = [k for k in required if k not in node]
    extra = sorted(set(node) - set(required) - set(optional))
    if missing or extra:
        _fail(f"{where} has missing keys {missing} or unexpected keys {extra}.")


def _int(value, where, low=0, high=2**63 - 1):
    if not (
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    ):
        _fail(f"{where} must be an int in [{low}, {high}]; got {value!r}.")
    return value


def _str(value, where):
    if not isinstance(value, str):
        _fail(f"{where} must be a string; got {value!r}.")
    return value


def _float(value, where, none=False):
    if none and value is None:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(f"{where} must be a number{' or null' if none else ''}; got {value!r}.")
    return value


class _Reader:
    """Decodes typed JSON; every array must be used exactly once."""

    def __init__(self, arrays, budget):
        self.arrays = arrays
        self.budget = budget
        self.used = set()
        self.params = None

    def array(self, name, where):
        if not isinstance(name, str) or name not in self.arrays:
            _fail(
                f"{where} refers to the array {name!r}, which the file does not hold."
            )
        if name in self.used:
            _fail(f"{where} refers to the array {name!r} a second time.")
        self.used.add(name)
        return self.arrays[name]

    def decode(self, node, where, depth=0, state=False):
        if depth > _MAX_DEPTH:
            _fail(f"{where} is nested too deeply.")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [
                self.decode(v, f"{where}[{i}]", depth + 1, state)
                for i, v in enumerate(node)
            ]
        if not isinstance(node, dict):  # pragma: no cover - json gives no other type
            _fail(f"{where} has a value of unexpected type {type(node).__name__}.")
        if "component" in node:
            return self.component(node, where, depth, state)
        if "component_class" in node:
            _keys(node, where, ("component_class", "name"))
            return self.component_class(node["component_class"], node["name"], where)
        kind = node.get("type")
        decoder = self._TYPES.get(kind) if isinstance(kind, str) else None
        if decoder is None:
            _fail(f"{where} has an unknown value type {kind!r}.")
        return decoder(self, node, where, depth, state)

    def component_class(self, kind, name, where):
        if not isinstance(kind, str) or kind not in REGISTRIES:
            _fail(
                f"{where} names an unknown component kind {kind!r}; known kinds: "
                f"{', '.join(sorted(REGISTRIES))}."
            )
        if not isinstance(name, str):
            _fail(f"{where} has a component name that is not a string: {name!r}.")
        try:
            return REGISTRIES[kind].get(name)
        except ValueError as exc:
            _fail(f"{where}: {exc}")

    def component(self, node, where, depth, state):
        _keys(node, where, ("component", "name", "params"), ("state",) if state else ())
        cls = self.component_class(node["component"], node["name"], where)
        params = node["params"]
        if not isinstance(params, dict):
            _fail(f"{where}.params must be a JSON object.")
        valid = cls._param_names()
        unknown = sorted(set(params) - set(valid))
        if unknown:
            _fail(
                f"{where}: {cls.__name__} has no parameters {unknown}; its "
                f"parameters are {valid}."
            )
        kwargs = {
            k: self.decode(v, f"{where}.{k}", depth + 1) for k, v in params.items()
        }
        try:
            obj = cls(**kwargs)
        except Exception as exc:
            _fail(
                f"{where}: {cls.__name__}(**params) failed: {type(exc).__name__}: {exc}"
            )
        attributes = node.get("state", {})
        if not isinstance(attributes, dict):
            _fail(f"{where}.state must be a JSON object.")
        for name, value in attributes.items():
            if not _ATTR_NAME.match(name) or name in valid or hasattr(cls, name):
                _fail(f"{where}: {name!r} is not an allowed state attribute name.")
            setattr(obj, name, self.decode(value, f"{where}.{name}", depth + 1))
        return obj

    def _float_node(self, node, where, depth, state):
        _keys(node, where, ("type", "value"))
        if node["value"] not in ("nan", "inf", "-inf"):
            _fail(
                f"{where}: a float node holds 'nan', 'inf' or '-inf'; got "
                f"{node['value']!r}."
            )
        return float(node["value"])

    def _tuple(self, node, where, depth, state):
        _keys(node, where, ("type", "items"))
        if not isinstance(node["items"], list):
            _fail(f"{where}.items must be a list.")
        return tuple(self.decode(node["items"], where, depth + 1, state))

    def _dict(self, node, where, depth, state):
        _keys(node, where, ("type", "items"))
        items = node["items"]
        if not isinstance(items, list):
            _fail(f"{where}.items must be a list of [key, value] pairs.")
        out = {}
        for i, pair in enumerate(items):
            if not (isinstance(pair, list) and len(pair) == 2):
                _fail(f"{where}.items[{i}] must be a [key, value] pair.")
            key = self.decode(pair[0], f"{where} key {i}", depth + 1)
            try:
                hash(key)
            except TypeError:
                _fail(f"{where} key {i} is not hashable: {key!r}.")
            if key in out:
                _fail(f"{where} repeats the key {key!r}.")
            out[key] = self.decode(pair[1], f"{where}[{key!r}]", depth + 1, state)
        return out

    def _ndarray(self, node, where, depth, state):
        _keys(node, where, ("type", "array"))
        return self.array(node["array"], where)

    def _random_state(self, node, where, depth, state):
        _keys(node, where, ("type", "keys", "pos", "has_gauss", "cached_gaussian"))
        keys = self.array(node["keys"], f"{where}.keys")
        if keys.dtype != np.uint32 or keys.shape != (624,):
            _fail(f"{where}: the Mersenne Twister keys must be 624 uint32 values.")
        pos = _int(node["pos"], f"{where}.pos", 0, 624)
        has_gauss = _int(node["has_gauss"], f"{where}.has_gauss", 0, 1)
        cached = _float(self.decode(node["cached_gaussian"], where, depth + 1), where)
        rng = np.random.RandomState(0)
        try:
            rng.set_state(("MT19937", keys, pos, has_gauss, float(cached)))
        except (TypeError, ValueError) as exc:
            _fail(f"{where}: invalid random state: {exc}")
        return rng

    def _same_as_parameter(self, node, where, depth, state):
        # The very RandomState object held by a parameter (``_rng`` is
        # ``random_state`` when the user passed a RandomState instance).
        _keys(node, where, ("type", "name"))
        rng = (
            (self.params or {}).get(node["name"])
            if isinstance(node["name"], str)
            else None
        )
        if not isinstance(rng, np.random.RandomState):
            _fail(
                f"{where} refers to parameter {node['name']!r}, which does not hold "
                "a RandomState."
            )
        return rng

    def _labels(self, node, where, depth, state):
        _keys(node, where, ("type", "dtype", "values"))
        return _decode_labels(node, where, self.budget)

    def _label_binarizer(self, node, where, depth, state):
        _keys(node, where, ("type", "y_type", "classes", "neg_label", "pos_label"))
        if node["neg_label"] != 0 or node["pos_label"] != 1:
            _fail(f"{where}: only neg_label=0 and pos_label=1 are supported.")
        if (
            not isinstance(node["classes"], dict)
            or node["classes"].get("type") != "labels"
        ):
            _fail(f"{where}.classes must be a labels node.")
        classes = self._labels(node["classes"], f"{where}.classes", depth + 1, state)
        return _label_binarizer(node["y_type"], classes, where)

    _TYPES = {
        "float": _float_node,
        "tuple": _tuple,
        "dict": _dict,
        "ndarray": _ndarray,
        "random_state": _random_state,
        "same_as_parameter": _same_as_parameter,
        "labels": _labels,
        "label_binarizer": _label_binarizer,
    }


def _decode_labels(node, where, budget):
    values, dtype = node["values"], node["dtype"]
    if not isinstance(values, list) or not isinstance(dtype, str):
        _fail(f"{where}: labels need a dtype string and a list of values.")
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError, OverflowError):
        _fail(f"{where}: {dtype!r} is not a NumPy dtype.")
    if dt.kind not in _LABEL_DTYPES or dt.fields is not None or dt.subdtype is not None:
        _fail(
            f"{where}: labels must have a bool, int, float, str or object dtype; "
            f"got {dtype!r}."
        )
    allowed = {
        "b": (bool,),
        "i": (int,),
        "u": (int,),
        "f": (int, float),
        "U": (str,),
        "O": (str, int, float, bool),
    }[dt.kind]
    for v in values:
        bad_bool = isinstance(v, bool) and bool not in allowed
        if bad_bool or not isinstance(v, allowed):
            _fail(f"{where}: label {v!r} does not fit the dtype {dtype!r}.")
    # The array, and the copies LabelBinarizer.fit makes of it.
    itemsize = np.dtype(object).itemsize if dt.kind == "O" else dt.itemsize
    budget.charge(2 * len(values) * itemsize, where)
    try:
        if dt.kind == "O":
            array = np.empty(len(values), dtype=object)
            array[:] = values
        else:
            array = np.array(values, dtype=dt)
    except (OverflowError, ValueError, TypeError) as exc:
        _fail(f"{where}: labels do not fit the dtype {dtype!r}: {exc}")
    if array.ndim != 1 or array.tolist() != values:
        _fail(f"{where}: labels do not fit the dtype {dtype!r} exactly.")
    return array


def _label_binarizer(y_type, classes, where):
    """Rebuild a fitted LabelBinarizer through its public ``fit``."""
    if y_type == "multilabel-indicator":
        k = len(classes)
        if k < 2 or not np.array_equal(classes, np.arange(k)):
            _fail(f"{where}: multilabel classes must be 0, ..., k - 1 with k >= 2.")
        lb = LabelBinarizer().fit(np.array([[0] * k, [1] * k]))
    elif y_type in ("binary", "multiclass"):
        if len(classes) < 2 or len(np.unique(classes)) != len(classes):
            _fail(f"{where}: {y_type} needs at least 2 distinct classes.")
        try:
            lb = LabelBinarizer().fit(classes)
        except (TypeError, ValueError) as exc:
            _fail(f"{where}: these classes cannot be binarized: {exc}")
    else:
        _fail(f"{where}: unsupported target type {y_type!r}.")
    if lb.y_type_ != y_type or not np.array_equal(lb.classes_, classes):
        _fail(f"{where}: classes {classes.tolist()} do not make a {y_type!r} target.")
    lb.classes_ = classes  # the exact dtype that was saved
    return lb


def _npy_header(zf, info):
    """Shape, dtype and data offset of a ``.npy`` member, from its header only."""
    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }
    try:
        with zf.open(info) as fh:
            version = np.lib.format.read_magic(fh)
            if version not in readers:
                raise ValueError(f"unsupported .npy version {version}")
            shape, _, dtype = readers[version](fh, max_header_size=_MAX_NPY_HEADER)
            offset = fh.tell()
    except (*_ZIP_ERRORS, SyntaxError, TypeError) as exc:
        _fail(f"the member {info.filename!r} is not a valid .npy file: {exc}")
    nbytes = math.prod(shape) * dtype.itemsize
    if info.file_size != offset + nbytes:
        _fail(
            f"the member {info.filename!r} declares {info.file_size} bytes, but its "
            f".npy header declares {offset} bytes of header and {nbytes} of data."
        )
    return tuple(shape), dtype


def _read_array(zf, info, name):
    """Read one ``.npy`` member (checked by ``_npy_header``) in bounded chunks."""
    try:
        with zf.open(info) as fh:
            array = np.lib.format.read_array(
                fh, allow_pickle=False, max_header_size=_MAX_NPY_HEADER
            )
            if fh.read(1):  # reaching the end also checks the CRC
                raise ValueError("data follows the array")
    except (*_ZIP_ERRORS, SyntaxError, TypeError) as exc:
        _fail(f"the array {name!r} cannot be read: {exc}")
    if not array.dtype.isnative:
        array = array.byteswap(inplace=True).view(array.dtype.newbyteorder("="))
    return array


def _array_declarations(arrays, budget):
    if not isinstance(arrays, dict):
        _fail("'arrays' must be a JSON object.")
    out = {}
    for name, decl in arrays.items():
        where = f"the declaration of array {name!r}"
        if not _ARRAY_NAME.match(name):
            _fail(f"{name!r} is not an allowed array name.")
        _keys(decl, where, ("dtype", "shape"))
        try:
            dtype = np.dtype(_str(decl["dtype"], f"{where}.dtype"))
        except (TypeError, ValueError, OverflowError):
            _fail(f"{where}: {decl['dtype']!r} is not a NumPy dtype.")
        if (
            dtype.kind not in _ARRAY_DTYPES
            or dtype.fields is not None
            or dtype.subdtype
        ):
            _fail(
                f"{where}: arrays must have a bool, int, float or complex dtype "
                f"(object arrays are never loaded); got {decl['dtype']!r}."
            )
        shape = decl["shape"]
        if not isinstance(shape, list) or len(shape) > 32:
            _fail(f"{where}: shape must be a list of at most 32 ints.")
        shape = tuple(_int(s, f"{where}.shape", 0) for s in shape)
        nbytes = math.prod(shape) * dtype.itemsize
        budget.charge(nbytes, f"the array {name!r}")
        out[name] = {"dtype": dtype, "shape": shape, "nbytes": nbytes}
    return out


class _Budget:
    """The bytes a file makes the loader allocate, counted against ``max_bytes``.

    Everything is charged before it is allocated: the metadata (at the
    estimated size of the Python objects its JSON becomes), the labels, the
    arrays and the flat parameter vector they are packed into.
    """

    def __init__(self, max_bytes):
        self.max_bytes, self.used = max_bytes, 0

    def charge(self, nbytes, what):
        self.used += nbytes
        if self.max_bytes is not None and self.used > self.max_bytes:
            _fail(
                f"{what} takes the memory loading needs to {self.used} bytes, more "
                f"than max_bytes={self.max_bytes}. Pass a larger max_bytes (or "
                "None) if you trust the file."
            )


def _json_cost(data):
    """An upper bound of the bytes ``json.loads`` and decoding build from ``data``.

    The decoded text and its strings take at most 4 bytes per byte each (one
    astral character makes a whole string 4 bytes per character); every JSON
    value (at most one per comma, colon or opening bracket, plus one) costs at
    most ``_JSON_VALUE_BYTES`` as parsed JSON and as decoded value together.
    """
    values = 1 + sum(data.count(c) for c in (b",", b":", b"[", b"{"))
    return 9 * len(data) + _JSON_VALUE_BYTES * values


def _read_json(zf, name, budget):
    """Read and parse a JSON member, charging its memory first."""
    info = zf.getinfo(name)
    if info.file_size > _MAX_METADATA_BYTES:
        _fail(
            f"{name} declares {info.file_size} bytes (at most "
            f"{_MAX_METADATA_BYTES} allowed)."
        )
    budget.charge(info.file_size, name)
    try:
        data = zf.read(info)
    except _ZIP_ERRORS as exc:
        _fail(f"{name} cannot be read: {exc}")
    budget.charge(_json_cost(data), f"the JSON in {name}")
    return data


def load(path, *, max_bytes=2**31):
    """Load an estimator or pipeline written by :func:`save`.

    Only JSON and plain numeric ``.npy`` arrays are read; components are built
    from their registered names; nothing named by the file is imported or run.
    A loaded estimator passes the checks ``fit`` applies to its parameters and
    components, and its fitted state the invariants ``fit`` guarantees.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        The file to read.
    max_bytes : int or None, default=2**31
        The memory the file may make the loader allocate (metadata, labels,
        strings and arrays), checked before anything large is read; files
        needing more are refused. Peak memory stays within a small constant
        factor of it (see ``docs/persistence.md``). None lifts the limit.

    Returns
    -------
    estimator : NNClassifier, NNRegressor or scikit-learn estimator
        The estimator, with the fitted state it was saved with: predictions
        are identical and ``partial_fit`` or ``warm_start`` continue exactly.
        A pipeline (saved with skops) comes back as the pipeline.

    Raises
    ------
    ValueError
        If the file is not an sknn model file, was written by a newer format
        version, is corrupted, truncated or inconsistent, holds an estimator
        ``fit`` could not have made, or needs more than ``max_bytes``.
    ImportError
        If the file holds a pipeline and skops is not installed.
    """
    check_number("max_bytes", max_bytes, low=0, integer=True, allow_none=True)
    budget = _Budget(max_bytes)
    own = isinstance(path, (str, os.PathLike))
    fh = open(path, "rb") if own else path
    try:
        try:
            zf = zipfile.ZipFile(fh, "r")
        except _ZIP_ERRORS as exc:
            _fail(f"not an sknn model file (not a readable zip archive: {exc}).")
        with zf:
            names = zf.namelist()
            if _SKOPS_SCHEMA in names and _METADATA not in names:
                return _load_skops(fh, zf, budget)
            return _load_sknn(zf, budget)
    finally:
        if own:
            fh.close()


def _load_sknn(zf, budget):
    infos = zf.infolist()
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        _fail("the archive holds two members with the same name.")
    if _METADATA not in names:
        _fail("not an sknn model file (no metadata.json in the archive).")
    members = {}
    for info in infos:
        if info.flag_bits & 0x1:
            _fail(f"the member {info.filename!r} is encrypted.")
        if info.filename == _METADATA:
            continue
        match = _ARRAY_MEMBER.match(info.filename)
        if not match:
            _fail(
                f"unexpected member {info.filename!r} (only metadata.json and "
                "arrays/<name>.npy are allowed)."
            )
        members[match.group(1)] = info

    meta = _strict_json(_read_json(zf, _METADATA, budget))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        _fail(f"not an sknn model file (metadata.json has no format {FORMAT_NAME!r}).")
    version = meta.get("format_version")
    _int(version, "format_version", 1)  # 1 and 2 differ only in what save writes
    if version > FORMAT_VERSION:
        _fail(
            f"it uses format version {version}, written by a newer sknn "
            f"({meta.get('sknn_version')!r}); this sknn reads versions up to "
            f"{FORMAT_VERSION}. Upgrade sknn to load it."
        )
    _keys(
        meta,
        "metadata.json",
        (
            "format",
            "format_version",
            "sknn_version",
            "estimator",
            "params",
            "fitted",
            "attributes",
            "arrays",
        ),
    )
    _str(meta["sknn_version"], "sknn_version")
    cls = (
        _ESTIMATORS.get(meta["estimator"])
        if isinstance(meta["estimator"], str)
        else None
    )
    if cls is None:
        _fail(
            f"unknown estimator class {meta['estimator']!r}; only "
            f"{', '.join(_ESTIMATORS)} can be loaded."
        )
    if not isinstance(meta["fitted"], bool):
        _fail("'fitted' must be true or false.")

    decls = _array_declarations(meta["arrays"], budget)
    if set(decls) != set(members):
        _fail(
            f"the arrays declared in metadata.json {sorted(decls)} differ from the "
            f"arrays in the archive {sorted(members)}."
        )
    for name, member in members.items():
        shape, dtype = _npy_header(zf, member)
        if dtype != decls[name]["dtype"] or shape != decls[name]["shape"]:
            _fail(
                f"the array {name!r} has dtype {dtype} and shape {shape} but "
                f"metadata.json declares {decls[name]['dtype']} and "
                f"{decls[name]['shape']}."
            )
    # Every check runs first on zero-memory stand-ins of the declared shapes,
    # so an inconsistent file is refused before its arrays are read.
    stand_ins = {
        name: np.broadcast_to(np.zeros((), d["dtype"].newbyteorder("=")), d["shape"])
        for name, d in decls.items()
    }
    _, attrs = _decode(cls, meta, stand_ins, budget)
    budget.charge(
        sum(
            a.nbytes
            for a in attrs.get("coefs_", [])
            + attrs.get("intercepts_", [])
            + [attrs.get("params_", np.empty(0))]
        ),
        "the parameter vector",
    )
    del attrs, stand_ins
    arrays = {name: _read_array(zf, members[name], name) for name in members}
    estimator, attrs = _decode(cls, meta, arrays, _Budget(None), pack=True)
    for name, value in attrs.items():
        setattr(estimator, name, value)
    return estimator


def _decode(cls, meta, arrays, budget, pack=False):
    """The estimator and fitted attributes ``meta`` describes, checked."""
    params_node = meta["params"]
    if not isinstance(params_node, dict):
        _fail("'params' must be a JSON object.")
    valid = cls._get_param_names()
    unknown = sorted(set(params_node) - set(valid))
    if unknown:
        _fail(f"{cls.__name__} has no parameters {unknown}.")
    reader = _Reader(arrays, budget)
    params = {k: reader.decode(v, f"parameter {k!r}") for k, v in params_node.items()}
    _check_param_kinds(params)
    reader.params = params
    estimator = cls()
    estimator.set_params(**params)

    attrs_node = meta["attributes"]
    if not isinstance(attrs_node, dict) or (attrs_node and not meta["fitted"]):
        _fail("'attributes' must be a JSON object, empty for an unfitted estimator.")
    attrs = {}
    for name, node in attrs_node.items():
        if not _ATTR_NAME.match(name) or name in valid or hasattr(cls, name):
            _fail(f"{name!r} is not an allowed attribute name.")
        attr = STATE.get(name)
        value = reader.decode(
            node,
            f"attribute {name!r}",
            state=attr is not None and attr.kind == "components",
        )
        if attr is not None and attr.saved:  # others are checked as values only
            attrs[name] = value
    if reader.used != set(arrays):
        _fail(f"the arrays {sorted(set(arrays) - reader.used)} are not used.")
    _check_estimator(estimator, attrs, meta["fitted"], pack)
    return estimator, attrs


def _components(value, where):
    """Every component in ``value`` (nested in lists, tuples, dicts, components)."""
    if isinstance(value, Component):
        yield where, value
        for name, param in value.get_params(deep=False).items():
            yield from _components(param, f"{where}.{name}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _components(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _components(item, f"{where}[{key!r}]")


def _check_estimator(estimator, attrs, fitted, pack):
    """Refuse an estimator that ``fit`` could not have made, whatever its format.

    Every component (in the parameters and in the fitted state) passes the
    hyperparameter checks that ``fit`` applies; a fitted estimator's
    parameters pass ``fit``'s own parameter checks, and its fitted attributes
    ``attrs`` the invariants of :func:`_check_fitted`. ``attrs`` is updated in
    place (``coefs_`` and ``intercepts_`` become views of one flat vector if
    ``pack``).
    """
    params = estimator.get_params(deep=False)
    for name, value in {**params, **attrs}.items():
        for where, component in _components(value, name):
            try:
                check_params(component)
            except (TypeError, ValueError) as exc:
                _fail(f"the component {where} is invalid: {exc}")
    if not fitted:
        return
    try:
        estimator._check_params()
    except (TypeError, ValueError) as exc:
        _fail(f"its parameters would be refused by fit: {exc}")
    _check_fitted(type(estimator), attrs, pack, estimator.optimizer)


def _check_param_kinds(params):
    for name, p in COMPONENT_PARAMS.items():
        if name not in params:
            continue
        value, registry = params[name], REGISTRIES[p.kind]
        base = registry.base
        if p.many:
            try:
                entries = named_components(value, name, registry)
            except (TypeError, ValueError) as exc:
                _fail(f"parameter {exc}")
            if not all(_component_spec(c, base) for _, c in entries):
                _fail(
                    f"parameter {name!r} must be None or a list of {p.kind}; got "
                    f"{value!r}."
                )
        if not p.many and not _component_spec(value, base):
            _fail(
                f"parameter {name!r} must be a registered name or an instance of "
                f"{base.__name__}; got {value!r}."
            )


def _component_spec(value, base):
    """Whether ``value`` is a name, class or instance of a component of ``base``."""
    return isinstance(value, (str, base)) or (
        isinstance(value, type) and issubclass(value, base)
    )


def _check_fitted(cls, attrs, pack, optimizer):
    """Check the fitted attributes against the invariants ``fit`` guarantees.

    ``attrs`` holds saved state only (``sknn._state.STATE``): each attribute
    the declaration says every fitted ``cls`` has, none that ``cls`` lacks,
    each of its declared kind; then the invariants between them.
    """
    declared = saved(cls)
    foreign = sorted(set(attrs) - set(declared))
    if foreign:
        _fail(f"{foreign} are not state of a {cls.__name__}.")
    missing = [n for n, a in declared.items() if a.required and n not in attrs]
    if missing:
        _fail(f"the fitted estimator lacks the attributes {missing}.")
    for name, value in attrs.items():
        attr = declared[name]
        check = _KIND_CHECKS.get(attr.kind)
        if check is not None and not (value is None and attr.none):
            check(value, name, attr)

    kept = attrs.get("_best_layer_state")
    if kept is not None and not (
        isinstance(attrs.get("layer_state_"), list)
        and len(kept) == len(attrs["layer_state_"])
        and all(
            isinstance(k, dict)
            and k.keys() == s.keys()
            and all(
                isinstance(k[n], np.ndarray)
                and (k[n].shape, k[n].dtype) == (s[n].shape, s[n].dtype)
                for n in s
            )
            for k, s in zip(kept, attrs["layer_state_"])
        )
    ):
        _fail(
            "_best_layer_state must be None or hold arrays of the keys, shapes and "
            "dtypes of layer_state_."
        )
    if "params_" in attrs:
        n_params, n_in, n_out, dtype = _check_layered(attrs, read=pack)
    else:
        if "coefs_" not in attrs or "intercepts_" not in attrs:
            _fail(
                "the fitted estimator has neither coefs_ and intercepts_ nor params_."
            )
        coefs, intercepts = attrs["coefs_"], attrs["intercepts_"]
        if not (
            isinstance(coefs, list)
            and isinstance(intercepts, list)
            and len(coefs) == len(intercepts) >= 1
            and all(isinstance(a, np.ndarray) for a in coefs + intercepts)
        ):
            _fail("coefs_ and intercepts_ must be lists of arrays of the same length.")
        dtype = coefs[0].dtype
        if dtype not in (np.float32, np.float64):
            _fail(f"the weights must be float32 or float64; got {dtype}.")
        sizes = [coefs[0].shape[0] if coefs[0].ndim == 2 else -1]
        for i, (W, b) in enumerate(zip(coefs, intercepts)):
            if W.dtype != dtype or b.dtype != dtype:
                _fail("coefs_ and intercepts_ must all have the same dtype.")
            if W.ndim != 2 or W.shape[0] != sizes[-1] or b.shape != (W.shape[1],):
                _fail(
                    f"layer {i}: coefs_ {W.shape} and intercepts_ {b.shape} do not "
                    f"chain from {sizes[-1]} inputs."
                )
            if not (np.isfinite(W).all() and np.isfinite(b).all()):
                _fail(f"layer {i} has non-finite weights.")
            sizes.append(W.shape[1])
        for name, expected in (
            ("n_layers_", len(sizes)),
            ("n_features_in_", sizes[0]),
            ("n_outputs_", sizes[-1]),
        ):
            if _int(attrs[name], name) != expected:
                _fail(f"{name}={attrs[name]} does not match the weights ({expected}).")
        n_params, n_in, n_out = Layout(sizes).n_params, sizes[0], sizes[-1]
        if pack:
            pack_weights(attrs)

    loss = attrs["_loss"]
    if loss.classification != (cls is NNClassifier):
        _fail(f"the loss {type(loss).__name__} does not suit a {cls.__name__}.")
    if attrs["out_activation_"] != loss.link.name:
        _fail(
            f"out_activation_={attrs['out_activation_']!r} does not match the loss "
            f"link {loss.link.name!r}."
        )

    # The shapes of arrays that follow the network.
    for name, attr in declared.items():
        value = attrs.get(name)
        if attr.kind == "names" and value is not None and value.shape != (n_in,):
            _fail(f"{name} must be n_features_in_ strings.")
        if attr.kind == "array" and value is not None:
            if value.shape != (n_params,):
                _fail(f"{name} must be None or {n_params} values.")
    if "optimizer_state_" in attrs:
        # A stand-in of the parameter vector's shape and dtype: no memory.
        params = np.broadcast_to(np.zeros((), dtype), (n_params,))
        try:
            registry = REGISTRIES[COMPONENT_KINDS["optimizer"]]
            optimizer = registry.resolve(optimizer, "optimizer")
            optimizer.check_state(attrs["optimizer_state_"], params)
        except (TypeError, ValueError) as exc:
            _fail(f"optimizer_state_ does not belong to the optimizer: {exc}")

    if cls is NNClassifier:
        classes, lb = attrs["classes_"], attrs["_label_binarizer"]
        if not isinstance(classes, np.ndarray) or not isinstance(lb, LabelBinarizer):
            _fail("classes_ must be labels and _label_binarizer a label binarizer.")
        if (
            lb.get_params() != LabelBinarizer().get_params()
            or not isinstance(getattr(lb, "classes_", None), np.ndarray)
            or classes.dtype != lb.classes_.dtype
            or not np.array_equal(classes, lb.classes_)
        ):
            _fail(
                "classes_ differs from the classes of _label_binarizer, or the "
                "binarizer is not one fit makes."
            )
        # Fitted afresh from its classes: the target type must fit them.
        lb = _label_binarizer(getattr(lb, "y_type_", None), classes, "_label_binarizer")
        attrs["classes_"], attrs["_label_binarizer"] = lb.classes_, lb
        try:
            name = REGISTRIES["losses"].name_of(type(loss))
            expected = _n_outputs(loss, lb.y_type_, len(classes), name)
        except ValueError as exc:
            _fail(f"its loss does not suit its {lb.y_type_} target: {exc}")
        if n_out != expected:
            _fail(
                f"a {lb.y_type_} classifier with {len(classes)} classes and the "
                f"{loss.link.name} output link has {expected} outputs, not {n_out}."
            )


def _check_layered(attrs, read):
    """Check the fitted layers, their state and parameters against each other.

    The shapes of the parameters follow the values of the layers' state (e.g.
    the number of bins): with stand-ins of the arrays (``read`` False) only
    the kinds are checked. Returns ``(n_params, n_features, n_outputs, dtype)``.
    """
    if any(n in attrs for n in ("coefs_", "intercepts_")):
        _fail("coefs_ and intercepts_ belong to the plain MLP, not beside params_.")
    layers, state, params = (
        attrs.get(n) for n in ("layers_", "layer_state_", "params_")
    )
    if not (isinstance(layers, list) and layers):
        _fail("layers_ must be a non-empty list of layers.")
    if not (
        isinstance(state, list)
        and len(state) == len(layers)
        and all(isinstance(s, dict) for s in state)
        and all(
            isinstance(v, np.ndarray) and v.dtype.kind in "fiub"
            for s in state
            for v in s.values()
        )
    ):
        _fail("layer_state_ must hold one dict of arrays per layer of layers_.")
    if params is None or params.ndim != 1:
        _fail("params_ must be a 1-D float array.")
    if params.dtype not in (np.float32, np.float64):
        _fail(f"the weights must be float32 or float64; got {params.dtype}.")
    if read and not np.isfinite(params).all():
        _fail("params_ has non-finite values.")
    n_in = _int(attrs["n_features_in_"], "n_features_in_")
    if not read:
        return (
            params.shape[0],
            n_in,
            _int(attrs["n_outputs_"], "n_outputs_"),
            params.dtype,
        )
    try:
        layout = LayerLayout(layers, n_in, state)
    except Exception as exc:
        _fail(f"layers_ and layer_state_ do not make a network: {exc}")
    if params.shape != (layout.n_params,):
        _fail(f"params_ must hold the {layout.n_params} parameters of layers_.")
    for name, expected in (
        ("n_layers_", len(layers)),
        ("n_outputs_", layout.n_outputs),
    ):
        if _int(attrs[name], name) != expected:
            _fail(f"{name}={attrs[name]} does not match layers_ ({expected}).")
    return layout.n_params, n_in, layout.n_outputs, params.dtype


def _check_list(check):
    def check_list(value, name, attr):
        if not isinstance(value, list):
            _fail(f"{name} must be a list.")
        for item in value:
            check(item, name, attr)

    return check_list


def _check_type(types, what):
    def check(value, name, attr):
        if not isinstance(value, types):
            _fail(f"{name} must be {what}; got {type(value).__name__}.")

    return check


def _check_component(value, name, attr):
    registry = REGISTRIES[COMPONENT_KINDS[attr.of]]
    if not isinstance(value, registry.base):
        _fail(f"{name} must be a component of kind {registry.kind!r}; got {value!r}.")


def _check_names(value, name, attr):
    if not (
        isinstance(value, np.ndarray)
        and value.ndim == 1
        and value.dtype == object
        and all(isinstance(s, str) for s in value)
    ):
        _fail(f"{name} must be n_features_in_ strings.")


def _check_float_array(value, name, attr):
    if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
        _fail(f"{name} must be{' None or' if attr.none else ''} a float array.")


# The type check of each kind of declared attribute (sknn._state.Attribute);
# kinds without one are checked with the invariants in _check_fitted.
_KIND_CHECKS = {
    "int": lambda value, name, attr: _int(value, name),
    "float": lambda value, name, attr: _float(value, name),
    "str": lambda value, name, attr: _str(value, name),
    "floats": _check_list(lambda value, name, attr: _float(value, name)),
    "records": _check_list(_check_type(dict, "a list of dicts")),
    "names": _check_names,
    "array": _check_float_array,
    "random_state": _check_type(np.random.RandomState, "a random state"),
    "component": _check_component,
    "components": _check_list(_check_component),
    "layer_list": _check_list(_check_type(Layer, "a list of layers")),
    "layer_state": _check_list(_check_type(dict, "a list of dicts")),
}


def skops_trusted_types():
    """Names of sknn's own types, for ``skops.io.load(..., trusted=...)``.

    sknn's estimators and built-in components hold configuration and arrays
    only, and none of them runs code when skops rebuilds it. Types from
    plugins are not included: check them with ``skops.io.get_untrusted_types``.

    Returns
    -------
    names : list of str
        Fully qualified class names, e.g. ``"sknn.estimators.NNClassifier"``.

    Examples
    --------
    >>> from sknn._persistence import skops_trusted_types
    >>> "sknn.optimizers.Adam" in skops_trusted_types()
    True
    """
    classes = set(_ESTIMATORS.values())
    for registry in REGISTRIES.values():
        classes.update(
            c
            for c in registry._classes.values()
            if c.__module__.split(".")[0] == "sknn"
        )
    return sorted(f"{c.__module__}.{c.__qualname__}" for c in classes)


# ---------------------------------------------------------------------- skops
def _skops():
    try:
        import skops.io
    except ImportError:
        raise ImportError(
            "Saving and loading a pipeline with sknn.save and sknn.load needs "
            "skops; install it with: pip install 'sknn[skops]'"
        ) from None
    return skops.io


def _trusted_types():
    """sknn's estimators and every registered component class, plugins too.

    The sknn format rebuilds exactly these (a registered component is trusted
    code), so the skops path trusts the same.
    """
    names = set(skops_trusted_types())
    for registry in REGISTRIES.values():
        registry.names()  # loads the entry-point plugins
        names.update(
            f"{c.__module__}.{c.__qualname__}" for c in registry._classes.values()
        )
    return sorted(names)


def _sknn_estimators(obj):
    """Every sknn estimator inside a scikit-learn estimator (``obj`` included)."""
    stack, seen = [obj], set()
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, (NNClassifier, NNRegressor)):
            yield value
        elif isinstance(value, BaseEstimator):
            stack.extend(vars(value).values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())


def _save_skops(estimator, path):
    sio = _skops()
    data = sio.dumps(estimator)
    untrusted = sorted(set(sio.get_untrusted_types(data=data)) - set(_trusted_types()))
    if untrusted:
        raise ValueError(
            f"Cannot save this {type(estimator).__name__} with sknn.save: it holds "
            f"types that sknn.load does not trust: {untrusted}. Save it with "
            "skops.io.dump and load it with skops.io.load(path, trusted=...) "
            "after reviewing them."
        )
    with _atomic_output(path) as fh:
        fh.write(data)


def _load_skops(fh, zf, budget):
    """Load a skops file after charging its declared sizes, then check it."""
    sio = _skops()
    for info in zf.infolist():
        if info.flag_bits & 0x1:
            _fail(f"the member {info.filename!r} is encrypted.")
        if info.filename == _SKOPS_SCHEMA:
            continue
        # skops holds each member's bytes and what it builds from them, and
        # weights are packed into a flat vector once more.
        npy = info.filename.endswith(".npy")
        budget.charge((3 if npy else 2) * info.file_size, repr(info.filename))
        if npy:
            _npy_header(zf, info)
    _read_json(zf, _SKOPS_SCHEMA, budget)
    fh.seek(0)
    try:
        obj = sio.load(fh, trusted=_trusted_types())
    except sio.exceptions.UntrustedTypesFoundException as exc:
        _fail(
            f"it holds types that sknn.load does not trust ({exc}). Review them and "
            "load it with skops.io.load(path, trusted=...)."
        )
    except Exception as exc:
        _fail(f"skops cannot read it: {type(exc).__name__}: {exc}")
    if not isinstance(obj, BaseEstimator):
        _fail(f"it holds a {type(obj).__name__}, not an estimator.")
    for est in _sknn_estimators(obj):
        attrs = {k: v for k, v in vars(est).items() if k in STATE and STATE[k].saved}
        fitted = is_fitted(vars(est))
        _check_estimator(est, attrs, fitted, pack=fitted)
        vars(est).update(attrs)
    return obj
