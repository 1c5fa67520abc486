"""Pytest configuration shared by the tests and the doctests."""

import importlib.util

import numpy as np
import pytest

# Stable reprs of NumPy scalars in doctests (0.5, not np.float64(0.5)). NumPy 1.x
# prints them that way already and has no "1.25" legacy mode.
if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
    np.set_printoptions(legacy="1.25")

# numba's compiled loops: no doctests, and numba is an optional dependency.
collect_ignore = ["sknn/_numba_loops.py"]

# sknn.onnx needs the optional extra "onnx" (skl2onnx).
if importlib.util.find_spec("skl2onnx") is None:
    collect_ignore.append("sknn/onnx.py")


def pytest_collection_modifyitems(items):
    """Docstring examples fit briefly: their ConvergenceWarnings are incidental."""
    for item in items:
        if isinstance(item, pytest.DoctestItem):
            item.add_marker(
                pytest.mark.filterwarnings(
                    "ignore::sklearn.exceptions.ConvergenceWarning"
                )
            )
