"""Fused loops for the hottest elementwise work, compiled when numba is present.

An Adam step written with NumPy ufuncs is a dozen passes over the flat
parameter vector (two moment updates, a square root, a division, the update),
and the L2 term of the gradient two more: for the 670k parameters of a
(784, 512, 512, 10) network, 15-25% of an epoch. A ReLU layer adds its bias
and activates in two passes, and its backward pass masks the delta and sums
it for the bias gradient in two more plus a temporary. With numba installed
(``pip install "sknn[fast]"``), each of these is one loop that reads and
writes every element once; without it, the NumPy versions run (below, and
the activation's own methods).

Both versions compute the same formulas (scikit-learn's Adam update
``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``,
``p += -lr m / (sqrt(v) + eps)``) in the dtype of the arrays: the L2 and
activation loops give the NumPy results bit for bit, the Adam step agrees to
rounding (its NumPy version orders the operations to save passes).

numba is imported, and the loops compiled (or loaded from numba's on-disk
cache, a fraction of a second), at the first call that can use them, so
``import sknn`` stays fast; if that fails, the NumPy loops run.

This module imports NumPy only.
"""

import warnings

import numpy as np

__all__ = [
    "adam_update",
    "add_scaled",
    "bias_relu",
    "compiled",
    "keyed_uniforms",
    "relu_backward_sum",
]

_compiled = None  # None: not tried yet; False: unavailable; else the module


def compiled():
    """The module of compiled loops, or None when numba is not available."""
    global _compiled
    if _compiled is None:
        try:
            from . import _numba_loops

            _warm_up(_numba_loops)
        except ImportError:
            _compiled = False
        except Exception as exc:  # a broken numba installation must not break fit
            warnings.warn(
                f"numba is installed but sknn's compiled loops failed to load "
                f"({type(exc).__name__}: {exc}); using the NumPy versions.",
                RuntimeWarning,
            )
            _compiled = False
        else:
            _compiled = _numba_loops
    return _compiled or None


def _warm_up(loops):
    """Compile (or load from numba's cache) every loop for both dtypes.

    A compilation failure then surfaces here, not in the middle of a fit.
    """
    for dtype in (np.float32, np.float64):
        a = np.zeros(2, dtype)
        t = dtype(0.5)
        loops.add_scaled(a, a.copy(), t)
        loops.adam_update(a, a.copy(), a.copy(), a.copy(), t, t, t, t, t, t, t)
        z = np.zeros((2, 2), dtype)
        loops.bias_relu(z, a, t)
        loops.relu_backward_sum(z, z.copy(), a, t, t)
    keys = np.zeros(2, np.uint64)
    loops.keyed_uniforms(keys, keys, np.zeros((2, 2)))


def _fusable(first, *others, ndim=1):
    """Whether the compiled loops take these arrays.

    All C-contiguous and of one floating dtype; ``first`` has ``ndim``
    dimensions and each other array its shape (or, for 2-D, a row's shape).
    """
    shapes = (first.shape, first.shape[1:]) if ndim == 2 else (first.shape,)
    return (
        first.dtype in (np.float32, np.float64)
        and first.ndim == ndim
        and first.flags.c_contiguous
        and all(
            a.dtype == first.dtype and a.flags.c_contiguous and a.shape in shapes
            for a in others
        )
    )


# Below this many elements a layer's activation takes the NumPy loops: the
# gain is a few microseconds, and a single-row prediction then never waits
# for numba's import.
_MIN_COMPILED_ACTIVATION = 4096


def _activation_loops(z, *others):
    """The compiled loops if they should run this pass over ``z``, else None."""
    if z.size < _MIN_COMPILED_ACTIVATION or not _fusable(z, *others, ndim=2):
        return None
    return compiled()


def add_scaled(y, x, scale, scratch):
    """``y += scale * x`` in place; ``scratch`` (like ``x``) may be overwritten."""
    loops = compiled()
    if loops is not None and _fusable(y, x):
        loops.add_scaled(y, x, y.dtype.type(scale))
        return
    y += np.multiply(x, scale, out=scratch)


def adam_update(params, grad, m, v, beta_1, beta_2, lr_t, epsilon, l2=None):
    """One Adam step in place, with the bias correction folded into ``lr_t``.

    ``m`` and ``v`` are updated, ``params`` moves by
    ``-lr_t * m / (sqrt(v) + epsilon)``; ``grad`` may be overwritten. ``l2``,
    a pair ``(n, scale)``, is an L2 term not yet in ``grad``: the step uses
    ``grad[:n] + scale * params[:n]`` (one loop with the step when compiled).
    """
    n, scale = l2 if l2 is not None else (0, 0.0)
    loops = compiled()
    if loops is not None and _fusable(params, grad, m, v):
        t = params.dtype.type
        consts = (
            t(beta_1),
            t(1 - beta_1),
            t(beta_2),
            t(1 - beta_2),
            t(-lr_t),
            t(epsilon),
        )
        k = n if scale else 0  # the entries that take the L2 term
        if k:
            loops.adam_update(params[:k], grad[:k], m[:k], v[:k], t(scale), *consts)
        loops.adam_update(params[k:], grad[k:], m[k:], v[k:], t(0), *consts)
        return
    if scale:
        grad[:n] += float(scale) * params[:n]
    # NumPy: in place, with grad as the only scratch (each line is one pass).
    # Python floats keep float32 arithmetic in float32 (NEP 50).
    b1, b2 = float(beta_1), float(beta_2)
    m *= b1
    grad *= 1 - b1
    m += grad
    grad *= grad  # now (1 - b1)^2 g^2
    grad *= (1 - b2) / (1 - b1) ** 2
    v *= b2
    v += grad
    # grad becomes the step: -lr_t * m / (sqrt(v) + eps)
    np.sqrt(v, out=grad)
    grad += float(epsilon)
    np.divide(m, grad, out=grad)
    grad *= -float(lr_t)
    params += grad


# The activation loops below have no NumPy version here: the activation's own
# methods are that version. Each returns whether it ran.


def bias_relu(z, b):
    """``z = max(z + b, 0)`` in place, for ``z`` (n, k) and ``b`` (k,)."""
    loops = _activation_loops(z, b)
    if loops is None:
        return False
    loops.bias_relu(z, b, z.dtype.type(0))
    return True


def relu_backward_sum(grad, a, grad_bias):
    """``grad *= (a > 0)`` in place and its column sums into ``grad_bias``."""
    loops = _activation_loops(grad, a, grad_bias)
    if loops is None:
        return False
    t = grad.dtype.type
    loops.relu_backward_sum(grad, a, grad_bias, t(1), t(0))
    return True


def keyed_uniforms(keys, cols, out):
    """Dropout uniforms of :class:`sknn._sampling.KeyedUniforms` into ``out``.

    ``out[i, j]`` is SplitMix64's finaliser of ``keys[i] ^ cols[j]`` as a
    float64 in [0, 1), bit for bit the NumPy version's, in one pass instead
    of a dozen. Returns whether the compiled loop ran.
    """
    if out.size < _MIN_COMPILED_ACTIVATION:
        return False
    loops = compiled()
    if loops is None:
        return False
    loops.keyed_uniforms(keys, cols, out)
    return True
