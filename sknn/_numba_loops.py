"""The loops of :mod:`sknn._kernels`, compiled by numba (an optional dependency).

Imported only by :func:`sknn._kernels.compiled`. Each loop is written so that
LLVM vectorises it: no branches but selects, constants of the arrays' dtype
(an integer or float64 literal would promote float32 work), and no array
that is both read and written under another name (each in-place loop takes
the array once); no fast-math, so the arithmetic is IEEE's (see
:mod:`sknn._kernels` for how the results compare with the NumPy versions).

Compiled once per install: numba caches the machine code on disk, beside this
file (``__pycache__``), or where that is not writable in the user's cache
directory (``~/.cache/numba``), or in ``NUMBA_CACHE_DIR`` when set. Where none
is writable, each process compiles its own.
"""

import numba
import numpy as np

_OPTIONS = dict(nogil=True, boundscheck=False, error_model="numpy")


def _jit(func):
    try:
        return numba.njit(cache=True, **_OPTIONS)(func)
    except RuntimeError:  # "cannot cache function": no writable cache directory
        return numba.njit(**_OPTIONS)(func)


@_jit
def add_scaled(y, x, scale):  # pragma: no cover - compiled
    for i in range(y.shape[0]):
        y[i] += scale * x[i]


@_jit
def adam_update(
    params,
    grad,
    m,
    v,
    l2,
    beta_1,
    one_minus_beta_1,
    beta_2,
    one_minus_beta_2,
    neg_lr,
    eps,
):  # pragma: no cover - compiled
    # The gradient is grad + l2 * params, the L2 term added here rather than
    # in a pass of its own (l2 = 0 for the biases).
    for i in range(params.shape[0]):
        g = grad[i] + l2 * params[i]
        mi = beta_1 * m[i] + one_minus_beta_1 * g
        vi = beta_2 * v[i] + one_minus_beta_2 * (g * g)
        m[i] = mi
        v[i] = vi
        params[i] += (neg_lr * mi) / (np.sqrt(vi) + eps)


@_jit
def bias_relu(z, b, zero):  # pragma: no cover - compiled
    # z = max(z + b, 0) in place; NaN stays NaN, as with np.maximum.
    for r in range(z.shape[0]):
        for j in range(z.shape[1]):
            s = z[r, j] + b[j]
            z[r, j] = zero if s < zero else s


@_jit
def relu_backward_sum(grad, a, grad_bias, one, zero):  # pragma: no cover - compiled
    # grad *= (a > 0) in place, and its column sums into grad_bias (row by
    # row, the order of np.add.reduce over axis 0).
    for j in range(grad.shape[1]):
        grad_bias[j] = zero
    for r in range(grad.shape[0]):
        for j in range(grad.shape[1]):
            g = grad[r, j] * (one if a[r, j] > zero else zero)
            grad[r, j] = g
            grad_bias[j] += g


# SplitMix64's finaliser (sknn._sampling._mix); integer arithmetic wraps.
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


@_jit
def keyed_uniforms(keys, cols, out):  # pragma: no cover - compiled
    # out[i, j] = mix(keys[i] ^ cols[j]) as a uniform in [0, 1), 53 bits.
    for i in range(out.shape[0]):
        k = keys[i]
        for j in range(out.shape[1]):
            h = k ^ cols[j]
            h ^= h >> _S30
            h *= _M1
            h ^= h >> _S27
            h *= _M2
            h ^= h >> _S31
            out[i, j] = np.float64(h >> _S11) * 1.1102230246251565e-16
