"""Randomness keyed by sample content: validation splits and dropout masks.

A sample's fate (whether it is held out for validation, which hidden units
dropout removes for it at a given epoch) depends only on its content and the
fit's seed, never on its position in ``X``. Two consequences follow:

- duplicated rows always land on the same side of the validation split, so
  the validation score is not inflated by copies of training rows;
- repeating a sample k times trains exactly like giving it ``sample_weight=k``,
  with early stopping and dropout too.
"""

import hashlib

import numpy as np

from ._kernels import keyed_uniforms

__all__ = ["row_keys", "KeyedUniforms", "content_split"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def row_keys(X, salt):
    """A salted 64-bit digest of each row's content, shape ``(n_samples,)``.

    Dense and sparse versions of the same data, in float32 or float64, give
    the same keys: each row is digested as its non-zero values (as float64)
    and their column indices.
    """
    key = int(salt).to_bytes(8, "little")
    n = X.shape[0]
    out = np.empty(n, dtype=np.uint64)
    if isinstance(X, np.ndarray):
        for i, row in enumerate(X):
            nz = np.flatnonzero(row)
            out[i] = _digest(row[nz], nz, key)
    else:
        X = X.tocsr()
        for i, (s, e) in enumerate(zip(X.indptr[:-1], X.indptr[1:])):
            values, cols = X.data[s:e], X.indices[s:e]
            keep = values != 0
            out[i] = _digest(values[keep], cols[keep], key)
    return out


def _digest(values, cols, key):
    h = hashlib.blake2b(digest_size=8, key=key)
    h.update(np.asarray(values, dtype=np.float64).tobytes())
    h.update(np.asarray(cols, dtype=np.int64).tobytes())
    return int.from_bytes(h.digest(), "little")


def _mix(h):
    """SplitMix64's finaliser, vectorised over uint64 arrays (wraps on overflow)."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


class KeyedUniforms:
    """Uniform numbers in [0, 1) keyed by row digests, column and call count.

    Has the ``random_sample(shape)`` method the engine uses to draw dropout
    masks, so the engine needs no knowledge of keys.

    Parameters
    ----------
    keys : ndarray of uint64, shape (n_rows,)
        Row digests of the batch (see :func:`row_keys`).
    salt : int
        Differs per epoch, so each epoch draws new masks.
    """

    def __init__(self, keys, salt):
        self.keys = keys
        self.salt = int(salt) % 2**64
        self.calls = 0

    def random_sample(self, shape):
        n, m = shape
        self.calls += 1
        start = np.array(
            [(self.salt + self.calls * 0x9E3779B97F4A7C15) % 2**64], dtype=np.uint64
        )
        start = _mix(start)
        cols = np.arange(1, m + 1, dtype=np.uint64) * _GOLDEN + start
        keys = np.ascontiguousarray(self.keys[:n], dtype=np.uint64)
        out = np.empty((n, m))
        if keyed_uniforms(keys, cols, out):  # one compiled pass (numba)
            return out
        h = _mix(keys[:, None] ^ cols[None, :])
        return np.multiply((h >> np.uint64(11)).astype(np.float64), 2.0**-53, out=out)


def content_split(keys, weights, groups, fraction, min_take=1):
    """Boolean mask of the validation rows, chosen by key, per group.

    Within each group (class, for stratification) the distinct keys are taken
    in key order, which is random for a random salt, until their summed
    weight reaches ``fraction`` of the group's weight. At least one key of a
    group with two or more positive-weight keys (``min_take`` if there are
    enough) goes to validation and one stays for training. Rows of one key
    always go together; zero-weight rows always stay in training.

    Parameters
    ----------
    keys : ndarray of uint64, shape (n,)
    weights : ndarray of shape (n,)
    groups : ndarray of shape (n,)
    fraction : float in (0, 1)
    min_take : int, default=1
        Fewest keys per group to hold out.

    Returns
    -------
    valid : ndarray of bool, shape (n,)
    """
    valid = np.zeros(len(keys), dtype=bool)
    positive = weights > 0
    for g in np.unique(groups):
        rows = np.flatnonzero((groups == g) & positive)
        uniq, inverse = np.unique(keys[rows], return_inverse=True)
        if len(uniq) < 2:
            continue
        key_weight = np.bincount(inverse, weights=weights[rows])
        cumulative = np.cumsum(key_weight)
        n_take = int(np.searchsorted(cumulative, fraction * cumulative[-1])) + 1
        n_take = min(max(n_take, min_take), len(uniq) - 1)
        valid[rows[inverse < n_take]] = True
    return valid
