"""Hidden-layer activation functions, each with its derivative beside it.

Shape contract: every method works elementwise on arrays of shape
``(n_samples, n_units)`` and keeps their dtype.

Examples
--------
>>> import numpy as np
>>> from sknn.activations import ReLU
>>> z = np.array([[-1.0, 2.0]])
>>> ReLU().forward(z)
array([[0., 2.]])
"""

import math

import numpy as np
from scipy import special

from ._base import Component
from ._kernels import bias_relu, relu_backward_sum
from ._registry import _make_registry

__all__ = [
    "Activation",
    "Identity",
    "Logistic",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "SELU",
    "GELU",
    "Softplus",
    "SiLU",
]


class Activation(Component):
    """Base class of activations.

    Subclasses implement :meth:`forward` and :meth:`backward`. Set the class
    attribute ``uses_input = True`` when the derivative needs the
    pre-activation ``z``; otherwise the engine computes the activation in place
    and passes ``z=None`` to :meth:`backward`.

    The engine calls :meth:`forward_biased` and :meth:`backward_summed`, which
    combine each pass with the bias's work; a subclass may override them with
    fused versions (see :class:`ReLU`).
    """

    uses_input = False

    def forward(self, z, out=None):
        """Return ``f(z)``, written into ``out`` when given (``out`` may be ``z``)."""
        raise NotImplementedError

    def backward(self, grad, a, z=None):
        """Multiply ``grad`` in place by ``f'(z)`` and return it.

        Parameters
        ----------
        grad : ndarray of shape (n_samples, n_units)
            Gradient of the objective with respect to ``a``; overwritten.
        a : ndarray of shape (n_samples, n_units)
            The activation output ``f(z)``.
        z : ndarray of shape (n_samples, n_units) or None
            The pre-activation, given when ``uses_input`` is true.
        """
        raise NotImplementedError

    def forward_biased(self, z, b, out=None):
        """Add the bias ``b`` (n_units,) to ``z`` in place, then :meth:`forward`."""
        z += b
        return self.forward(z, out=out)

    def backward_summed(self, grad, a, z, grad_bias):
        """:meth:`backward`, then the column sums of the result into ``grad_bias``.

        Those sums are the gradient of the layer's bias.
        """
        self.backward(grad, a, z)
        return np.add.reduce(grad, axis=0, out=grad_bias)

    def onnx_forward(self, graph, x):
        """Add ``f(x)`` to an ONNX graph and return the name of its output.

        Used by ``sknn.onnx`` to export a fitted network; optional, and an
        activation without it cannot be exported. ``graph`` is a
        :class:`sknn.onnx.OnnxGraph`: ``graph.op(op_type, *inputs,
        **attributes)`` adds a node and returns its output's name,
        ``graph.const(value)`` a constant in the network's dtype and
        ``graph.ndtr(x)`` the standard normal CDF.
        """
        raise NotImplementedError


registry = _make_registry("activations", Activation)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
register_activation = registry.register


def _out(z, out):
    return np.empty_like(z) if out is None else out


@register_activation("identity")
class Identity(Activation):
    """``f(z) = z``."""

    def forward(self, z, out=None):
        if out is None:
            return z.copy()
        if out is not z:
            np.copyto(out, z)
        return out

    def backward(self, grad, a, z=None):
        return grad

    def onnx_forward(self, graph, x):
        return x


@register_activation("logistic")
class Logistic(Activation):
    """The logistic sigmoid ``f(z) = 1 / (1 + exp(-z))``."""

    def forward(self, z, out=None):
        return special.expit(z, out=_out(z, out))

    def backward(self, grad, a, z=None):
        grad *= a
        grad *= 1 - a
        return grad

    def onnx_forward(self, graph, x):
        return graph.op("Sigmoid", x)


@register_activation("tanh")
class Tanh(Activation):
    """The hyperbolic tangent."""

    def forward(self, z, out=None):
        return np.tanh(z, out=_out(z, out))

    def backward(self, grad, a, z=None):
        grad *= 1 - a * a
        return grad

    def onnx_forward(self, graph, x):
        return graph.op("Tanh", x)


@register_activation("relu")
class ReLU(Activation):
    """The rectified linear unit ``f(z) = max(z, 0)``."""

    def forward(self, z, out=None):
        # Against a broadcast row of zeros rather than the scalar 0: NumPy's
        # SIMD loop for maximum needs two array operands (2-3x faster).
        return np.maximum(z, np.zeros(z.shape[-1:], z.dtype), out=_out(z, out))

    def backward(self, grad, a, z=None):
        # f'(z) is 1 where a > 0 and 0 elsewhere. Multiplying by the comparison
        # is one vectorised pass (a boolean-mask assignment is ~20x slower).
        return np.multiply(grad, a > 0, out=grad)

    def onnx_forward(self, graph, x):
        return graph.op("Relu", x)

    # Each pass in one loop when numba is installed (sknn._kernels).
    def forward_biased(self, z, b, out=None):
        if out is z and bias_relu(z, b):
            return z
        return super().forward_biased(z, b, out)

    def backward_summed(self, grad, a, z, grad_bias):
        if relu_backward_sum(grad, a, grad_bias):
            return grad_bias
        return super().backward_summed(grad, a, z, grad_bias)


@register_activation("leaky_relu")
class LeakyReLU(Activation):
    """``f(z) = z`` for ``z > 0`` and ``negative_slope * z`` otherwise.

    Parameters
    ----------
    negative_slope : float, default=0.01
        Slope for negative inputs; must be positive.
    """

    _param_checks = {"negative_slope": {"low": 0, "low_open": True}}

    def __init__(self, negative_slope=0.01):
        self.negative_slope = negative_slope

    def forward(self, z, out=None):
        out = _out(z, out)
        return np.multiply(
            z, np.where(z > 0, 1, self.negative_slope).astype(z.dtype), out=out
        )

    def backward(self, grad, a, z=None):
        # With a positive slope the sign of a is the sign of z.
        grad *= np.where(a > 0, 1, self.negative_slope).astype(grad.dtype)
        return grad

    def onnx_forward(self, graph, x):
        slope = graph.op(
            "Where",
            graph.op("Greater", x, graph.const(0.0)),
            graph.const(1.0),
            graph.const(self.negative_slope),
        )
        return graph.op("Mul", x, slope)


@register_activation("elu")
class ELU(Activation):
    """``f(z) = z`` for ``z > 0`` and ``alpha * (exp(z) - 1)`` otherwise.

    Parameters
    ----------
    alpha : float, default=1.0
        Saturation value for negative inputs; must be positive.
    """

    _param_checks = {"alpha": {"low": 0, "low_open": True}}

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def forward(self, z, out=None):
        neg = self.alpha * special.expm1(np.minimum(z, 0))
        return _where(z > 0, z, neg, out)

    def backward(self, grad, a, z=None):
        # f'(z) = 1 for z > 0 and f(z) + alpha otherwise.
        grad *= np.where(a > 0, 1, a + self.alpha).astype(grad.dtype)
        return grad

    def onnx_forward(self, graph, x):
        neg = graph.op("Mul", graph.const(self.alpha), _onnx_expm1_neg(graph, x))
        return graph.op("Where", graph.op("Greater", x, graph.const(0.0)), x, neg)


def _where(cond, x, y, out):
    """``where(cond, x, y)`` written into ``out``, which may be ``x``."""
    out = _out(x, out)
    if out is not x:
        np.copyto(out, x)
    np.copyto(out, y, where=~cond)
    return out


def _onnx_expm1_neg(graph, x):
    """``exp(min(x, 0)) - 1`` in an ONNX graph (ONNX has no expm1)."""
    clipped = graph.op("Min", x, graph.const(0.0))
    return graph.op("Sub", graph.op("Exp", clipped), graph.const(1.0))


@register_activation("selu")
class SELU(Activation):
    """Scaled ELU with the self-normalising constants of Klambauer et al. (2017)."""

    alpha = 1.6732632423543772
    scale = 1.0507009873554805

    def forward(self, z, out=None):
        pos = z > 0
        neg = (self.scale * self.alpha) * special.expm1(np.minimum(z, 0))
        out = _where(pos, z, neg, out)
        np.multiply(out, self.scale, out=out, where=pos)
        return out

    def backward(self, grad, a, z=None):
        # f'(z) = scale for z > 0 and f(z) + scale * alpha otherwise.
        grad *= np.where(a > 0, self.scale, a + self.scale * self.alpha).astype(
            grad.dtype
        )
        return grad

    def onnx_forward(self, graph, x):
        const = graph.const
        neg = graph.op("Mul", const(self.scale * self.alpha), _onnx_expm1_neg(graph, x))
        pos = graph.op("Mul", x, const(self.scale))
        return graph.op("Where", graph.op("Greater", x, const(0.0)), pos, neg)


@register_activation("gelu")
class GELU(Activation):
    """Gaussian error linear unit, exact form ``f(z) = z * Phi(z)``."""

    uses_input = True

    def forward(self, z, out=None):
        return np.multiply(z, special.ndtr(z), out=_out(z, out))

    def backward(self, grad, a, z=None):
        pdf = np.exp(-0.5 * z * z) * _INV_SQRT_2PI
        grad *= special.ndtr(z) + z * pdf
        return grad

    def onnx_forward(self, graph, x):
        return graph.op("Mul", x, graph.ndtr(x))


@register_activation("softplus")
class Softplus(Activation):
    """``f(z) = log(1 + exp(z))``, computed without overflow."""

    uses_input = True

    def forward(self, z, out=None):
        return np.logaddexp(0, z, out=_out(z, out))

    def backward(self, grad, a, z=None):
        grad *= special.expit(z)
        return grad

    def onnx_forward(self, graph, x):
        # log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)), as np.logaddexp.
        tail = graph.op("Exp", graph.op("Neg", graph.op("Abs", x)))
        log1p = graph.op("Log", graph.op("Add", tail, graph.const(1.0)))
        return graph.op("Add", graph.op("Relu", x), log1p)


@register_activation("silu")
class SiLU(Activation):
    """Sigmoid linear unit (swish), ``f(z) = z * sigmoid(z)``."""

    uses_input = True

    def forward(self, z, out=None):
        return np.multiply(z, special.expit(z), out=_out(z, out))

    def backward(self, grad, a, z=None):
        s = special.expit(z)
        # f'(z) = s + z s (1 - s) = s + a (1 - s)
        grad *= s + a * (1 - s)
        return grad

    def onnx_forward(self, graph, x):
        # z / (1 + exp(-z)): ONNX Runtime 1.23 fuses z * sigmoid(a * z) into a
        # kernel that has no float64 version.
        one = graph.const(1.0)
        return graph.op(
            "Div", x, graph.op("Add", one, graph.op("Exp", graph.op("Neg", x)))
        )
