"""Export fitted NNClassifier and NNRegressor models to ONNX with skl2onnx.

Importing this module registers sknn's converters with skl2onnx (it needs the
optional extra ``onnx``: ``pip install "sknn[onnx]"``). After that,
:func:`skl2onnx.to_onnx` converts a fitted :class:`~sknn.NNClassifier` or
:class:`~sknn.NNRegressor`, alone or inside a pipeline, like any scikit-learn
estimator it knows.

The graph computes in the type of its input: ``tensor(double)`` for float64
input, ``tensor(float)`` otherwise. A classifier has the outputs of
skl2onnx's classifiers (``label`` and ``probabilities`` with
``options={"zipmap": False}``, ``output_label`` and ``output_probability``
by default); a regressor has one output ``variable`` of shape
``(n_samples, n_outputs)``.

Hidden activations are exported through their :meth:`onnx_forward
<sknn.activations.Activation.onnx_forward>` method and the loss's link
through :meth:`onnx_inverse <sknn.links.Link.onnx_inverse>` (and, for a
classifier, :meth:`onnx_proba <sknn.links.Link.onnx_proba>`); each receives
an :class:`OnnxGraph`.

Examples
--------
>>> import numpy as np
>>> import onnxruntime as ort
>>> from skl2onnx import to_onnx
>>> from sklearn.datasets import load_iris
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> import sknn.onnx
>>> from sknn import NNClassifier
>>> X, y = load_iris(return_X_y=True)
>>> X = X.astype(np.float32)
>>> clf = make_pipeline(
...     StandardScaler(),
...     NNClassifier(hidden_layer_sizes=(8,), activation="gelu", learning_rate=0.01,
...                  tol=1e-3, random_state=0),
... ).fit(X, y)
>>> onx = to_onnx(clf, X[:1], options={"zipmap": False})
>>> sess = ort.InferenceSession(onx.SerializeToString(),
...                             providers=["CPUExecutionProvider"])
>>> [o.name for o in sess.get_outputs()]
['label', 'probabilities']
>>> label, proba = sess.run(None, {"X": X})
>>> bool((label == clf.predict(X)).all())
True
>>> bool(np.abs(proba - clf.predict_proba(X)).max() < 1e-5)
True
"""

import math

import numpy as np

try:
    import onnx
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
    )
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
    )
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )
    from skl2onnx.common.utils_classifier import get_label_classes
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "sknn.onnx needs the optional extra 'onnx' (skl2onnx, onnx, onnxruntime): "
        'pip install "sknn[onnx]".'
    ) from exc

from sklearn.utils.validation import check_is_fitted

from .activations import Activation
from .estimators import NNClassifier, NNRegressor
from .links import Link
from .losses import Loss

__all__ = ["OnnxGraph"]

_INPUT_TYPES = [BooleanTensorType, DoubleTensorType, FloatTensorType, Int64TensorType]


class OnnxGraph:
    """The ONNX graph being built, as an activation's ``onnx_forward`` sees it.

    Values are referred to by name (a ``str``). Every floating value of the
    network has the graph's :attr:`dtype`.

    Attributes
    ----------
    dtype : numpy.dtype
        ``float32`` or ``float64``: the type the network computes in.
    opset : int
        The target opset of the default ONNX domain.

    Examples
    --------
    An activation's ``onnx_forward`` for ``f(z) = z * sigmoid(beta * z)``:

    >>> def onnx_forward(self, graph, x):
    ...     # z / (1 + exp(-beta z)), not z * sigmoid(beta z): ONNX Runtime 1.23
    ...     # fuses the latter into a kernel that has no float64 version.
    ...     exp = graph.op("Exp", graph.op("Mul", x, graph.const(-self.beta)))
    ...     return graph.op("Div", x, graph.op("Add", graph.const(1.0), exp))
    """

    def __init__(self, scope, container, dtype):
        self.dtype = np.dtype(dtype)
        self.opset = container.target_opset
        self._scope = scope
        self._container = container
        self._consts = {}

    def op(self, op_type, *inputs, output=None, domain="", **attributes):
        """Add the node ``op_type(*inputs, **attributes)``; return its output's name.

        Parameters
        ----------
        op_type : str
            An ONNX operator, such as ``"Mul"`` or ``"Sigmoid"``.
        *inputs : str
            Names of its inputs, from :meth:`op`, :meth:`const` or the input.
        output : str, default=None
            Name of the output; a fresh name by default.
        domain : str, default=""
            The operator's domain ("" is the default ONNX domain).
        **attributes
            The operator's attributes, such as ``axis=1``.
        """
        scope = self._scope
        out = output or scope.get_unique_variable_name(op_type.lower())
        self._container.add_node(
            op_type,
            list(inputs),
            [out],
            op_domain=domain,
            name=scope.get_unique_operator_name(op_type),
            **attributes,
        )
        return out

    def const(self, value, dtype=None):
        """Name of a constant tensor holding ``value`` (in :attr:`dtype` by default).

        Parameters
        ----------
        value : float or array-like
            The constant; a scalar broadcasts against any shape.
        dtype : dtype, default=None
            Its type; default the graph's :attr:`dtype`.
        """
        value = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        key = (value.dtype.str, value.shape, value.tobytes())
        if key not in self._consts:
            name = self._scope.get_unique_variable_name("c")
            if value.dtype.kind in "OUS":
                proto = onnx.TensorProto.STRING
                content = [str(v).encode("utf-8") for v in value.ravel()]
            else:
                proto = onnx.helper.np_dtype_to_tensor_dtype(value.dtype)
                content = value.ravel()
            self._container.add_initializer(name, proto, list(value.shape), content)
            self._consts[key] = name
        return self._consts[key]

    def ndtr(self, x):
        """Name of the standard normal CDF ``Phi(x) = (1 + erf(x / sqrt(2))) / 2``.

        In float32 this is ONNX's ``Erf``. ONNX Runtime has no float64 ``Erf``,
        so float64 graphs evaluate the rational approximations of erf and
        erfc from Cephes (S. L. Moshier), those behind
        :func:`scipy.special.ndtr`.
        """
        op, c = self.op, self.const
        t = op("Mul", x, c(math.sqrt(0.5)))
        if self.dtype == np.float32:
            return op("Mul", op("Add", op("Erf", t), c(1.0)), c(0.5))
        # |t| < 1: erf(t) = t T(t^2) / U(t^2).
        t2 = op("Mul", t, t)
        erf = op(
            "Div",
            op("Mul", t, _horner(self, t2, _ERF_T)),
            _horner(self, t2, _ERF_U, monic=True),
        )
        small = op("Mul", op("Add", erf, c(1.0)), c(0.5))
        # |t| >= 1: erfc(|t|) = exp(-t^2) P(|t|) / Q(|t|); clipping |t| at 8
        # changes values below 1e-28 (and keeps the polynomials finite).
        z = op("Abs", t)
        zc = op("Min", z, c(8.0))
        ratio = op(
            "Div", _horner(self, zc, _ERFC_P), _horner(self, zc, _ERFC_Q, monic=True)
        )
        tail = op("Mul", op("Mul", op("Exp", op("Neg", t2)), ratio), c(0.5))
        large = op("Where", op("Greater", t, c(0.0)), op("Sub", c(1.0), tail), tail)
        return op("Where", op("Less", z, c(1.0)), small, large)


# Cephes ndtr.c: erf(x) = x T(x^2)/U(x^2) on |x| < 1 and
# erfc(x) = exp(-x^2) P(x)/Q(x) on 1 <= x < 8 (U and Q have a leading 1).
_ERF_T = (
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
)
_ERF_U = (
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
)
_ERFC_P = (
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
)
_ERFC_Q = (
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
)


def _horner(graph, x, coefs, monic=False):
    """The polynomial ``coefs`` (highest degree first) at ``x`` by Horner's scheme.

    ``monic=True`` puts an implicit leading coefficient of 1 before ``coefs``.
    """
    acc = graph.op("Add", x, graph.const(coefs[0])) if monic else graph.const(coefs[0])
    for c in coefs[1:]:
        acc = graph.op("Add", graph.op("Mul", acc, x), graph.const(c))
    return acc


def _owner(cls, attribute):
    return next(k for k in cls.__mro__ if attribute in vars(k))


def _missing(cls, hook, methods, stub):
    """Why ``cls`` has no usable ``hook`` for ``methods``, or None if it has one.

    The hook must be defined where each method was, or below: a subclass that
    changes the function must also say how to export it. ``stub`` is the
    class whose ``hook`` only raises.
    """
    method = _owner(cls, hook)
    if method is stub:
        return ""
    for attribute in methods:
        defined = _owner(cls, attribute)
        if not issubclass(method, defined):
            return (
                f" (it overrides {attribute} in {defined.__qualname__} but "
                f"inherits {hook} from {method.__qualname__})"
            )
    return None


def _check_exportable(model):
    """Raise before conversion if ``model`` cannot be exported."""
    check_is_fitted(model)
    if "params_" in vars(model):
        raise TypeError(
            f"{type(model).__name__} cannot be exported to ONNX: the export "
            "converts the plain MLP (architecture='mlp' without an embedding), "
            f"and this model was fitted with architecture={model.architecture!r}."
        )
    activation, loss = model._activation, model._loss
    cls = type(activation)
    why = _missing(cls, "onnx_forward", ("forward", "forward_biased"), Activation)
    if why is not None:
        raise TypeError(
            f"{type(model).__name__} cannot be exported to ONNX: its hidden "
            f"activation {activation!r} ({cls.__module__}.{cls.__qualname__}) "
            f"has no ONNX converter{why}. Define its onnx_forward(graph, x) "
            "method; see the activation protocol in docs/components.md."
        )
    if _owner(type(loss), "inverse_link") is not Loss:
        raise TypeError(
            f"{type(model).__name__} cannot be exported to ONNX: its loss "
            f"{loss!r} overrides inverse_link, which the export cannot follow. "
            "Give the loss a link (a sknn.links.Link with inverse and "
            "onnx_inverse methods) instead; see the link protocol in "
            "docs/components.md."
        )
    link, cls = loss.link, type(loss.link)
    hooks = [("onnx_inverse", ("inverse",), Link, "onnx_inverse(graph, raw)")]
    if isinstance(model, NNClassifier):
        hooks.append(("onnx_proba", ("proba",), None, "onnx_proba(graph, p, y_type)"))
    for hook, methods, stub, signature in hooks:
        why = _missing(cls, hook, methods, stub)
        if why is not None:
            raise TypeError(
                f"{type(model).__name__} cannot be exported to ONNX: its output "
                f"link {link!r} ({cls.__module__}.{cls.__qualname__}) has no ONNX "
                f"converter{why}. Define its {signature} method; see the link "
                "protocol in docs/components.md."
            )


def _graph(scope, operator, container):
    double = isinstance(operator.inputs[0].type, DoubleTensorType)
    return OnnxGraph(scope, container, np.float64 if double else np.float32)


def _network(graph, model, x):
    """The network's predictions (after the output link) for input ``x``."""
    a = graph.op("Cast", x, to=onnx.helper.np_dtype_to_tensor_dtype(graph.dtype))
    last = len(model.coefs_) - 1
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        a = graph.op("Add", graph.op("MatMul", a, graph.const(W)), graph.const(b))
        if i < last:
            a = model._activation.onnx_forward(graph, a)
    return model._loss.link.onnx_inverse(graph, a)


def _class_labels(scope, model):
    # Numeric and boolean classes become int64 labels, as in skl2onnx's
    # classifiers (scikit-learn only accepts integral float classes).
    classes = np.asarray(get_label_classes(scope, model))
    return classes.astype(np.int64 if classes.dtype.kind in "fiub" else str)


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    graph = _graph(scope, operator, container)
    op, const = graph.op, graph.const
    label, proba = (v.full_name for v in operator.outputs[:2])
    p = _network(graph, model, operator.inputs[0].full_name)
    y_type = model._label_binarizer.y_type_
    # What NNClassifier.predict_proba returns.
    op("Identity", model._loss.link.onnx_proba(graph, p, y_type), output=proba)
    # What NNClassifier.predict returns.
    if y_type == "multilabel-indicator":
        op(
            "Cast",
            op("Greater", p, const(0.5)),
            to=onnx.TensorProto.INT64,
            output=label,
        )
    else:
        index = op("ArgMax", proba, axis=1, keepdims=0)
        classes = _class_labels(scope, model)
        op("Gather", const(classes, dtype=classes.dtype), index, output=label)


def _classifier_shapes(operator):
    model = operator.raw_operator
    _check_exportable(model)
    calculate_linear_classifier_output_shapes(operator)
    if model._label_binarizer.y_type_ == "multilabel-indicator":
        n = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type = Int64TensorType([n, model.n_outputs_])


def _convert_regressor(scope, operator, container):
    model = operator.raw_operator
    graph = _graph(scope, operator, container)
    pred = _network(graph, model, operator.inputs[0].full_name)
    graph.op("Identity", pred, output=operator.outputs[0].full_name)


def _regressor_shapes(operator):
    model = operator.raw_operator
    _check_exportable(model)
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    check_input_and_output_types(operator, good_input_types=_INPUT_TYPES)
    double = isinstance(operator.inputs[0].type, DoubleTensorType)
    n = operator.inputs[0].get_first_dimension()
    tensor_type = DoubleTensorType if double else FloatTensorType
    operator.outputs[0].type = tensor_type([n, model.n_outputs_])


update_registered_converter(
    NNClassifier,
    "SknnNNClassifier",
    _classifier_shapes,
    _convert_classifier,
    options={
        "zipmap": [True, False, "columns"],
        "output_class_labels": [False, True],
        "nocl": [True, False],
    },
)
update_registered_converter(
    NNRegressor, "SknnNNRegressor", _regressor_shapes, _convert_regressor
)
