"""The loops of :mod:`sknn._kernels`, compiled by numba (an optional dependency).

Imported only by :func:`sknn._kernels.compiled`. Each loop is written so that
LLVM vectorises it (no branches, no aliasing between what a loop reads and
writes within an element); no fast-math, so the arithmetic is IEEE's and
matches the NumPy versions to rounding.
"""

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")


@_jit
def add_scaled(y, x, scale):  # pragma: no cover - compiled
    for i in range(y.shape[0]):
        y[i] += scale * x[i]


@_jit
def adam_update(
    params, grad, m, v, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, neg_lr, eps
):  # pragma: no cover - compiled
    # Moments and the step (into grad) in one loop, the update in another: one
    # loop writing params as well is not vectorised.
    for i in range(params.shape[0]):
        g = grad[i]
        mi = beta_1 * m[i] + one_minus_beta_1 * g
        vi = beta_2 * v[i] + one_minus_beta_2 * (g * g)
        m[i] = mi
        v[i] = vi
        grad[i] = (neg_lr * mi) / (np.sqrt(vi) + eps)
    for i in range(params.shape[0]):
        params[i] += grad[i]
