"""Write the version-1 model files that tests/test_state.py loads.

Run with sknn at commit 0735df2 (the last one writing format version 1), from
the repository root::

    PYTHONPATH=$PWD python tests/data/make_format_v1.py

Each ``format_v1_<name>.sknn`` comes with ``format_v1_<name>.npz``: the data,
the predictions of the saved model and, where the model can continue, the
predictions after one more call to ``partial_fit`` with the same data, all
computed by the sknn that wrote the file.
"""

import copy
import os
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sknn import NNClassifier, NNRegressor
from sknn._persistence import FORMAT_VERSION, save
from sknn.callbacks import EarlyStopping
from sknn.optimizers import SGD

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, estimator, **expected):
    save(estimator, os.path.join(HERE, f"format_v1_{name}.sknn"))
    np.savez(os.path.join(HERE, f"format_v1_{name}.npz"), **expected)


def main():
    import pandas as pd

    assert FORMAT_VERSION == 1
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))

    warnings.simplefilter("ignore", ConvergenceWarning)

    # Multiclass labels, feature names, early stopping, dropout, a callback with
    # state and an optimizer instance with momentum.
    y = np.array(["ant", "bee", "cat", "dog"])[(X[:, 0] > 0) + 2 * (X[:, 1] > 0)]
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = NNClassifier(
        hidden_layer_sizes=(5,),
        optimizer=SGD(learning_rate=0.05, momentum=0.9),
        early_stopping=True,
        dropout=0.1,
        callbacks=[EarlyStopping(patience=4)],
        max_iter=8,
        random_state=0,
    ).fit(frame, y)
    write(
        "classifier",
        clf,
        X=X,
        predict=clf.predict(frame),
        proba=clf.predict_proba(frame),
    )

    # Binary labels, no early stopping: continues with partial_fit.
    yb = (X[:, 0] + X[:, 2] > 0).astype(int)
    binary = NNClassifier(hidden_layer_sizes=(4, 3), max_iter=6, random_state=1)
    binary.fit(X, yb)
    proba = binary.predict_proba(X)
    cont = copy.deepcopy(binary).partial_fit(X, yb)
    write("binary", binary, X=X, y=yb, proba=proba, proba_after=cont.predict_proba(X))

    # float32, two outputs, a RandomState instance as random_state.
    X32 = X.astype(np.float32)
    Y = np.column_stack([X.sum(axis=1), X[:, 0] * X[:, 1]])
    reg = NNRegressor(
        hidden_layer_sizes=(6,),
        learning_rate=0.01,
        max_iter=5,
        random_state=np.random.RandomState(3),
    ).fit(X32, Y)
    pred = reg.predict(X32)
    cont = copy.deepcopy(reg).partial_fit(X32, Y)
    write("regressor", reg, X=X32, y=Y, predict=pred, predict_after=cont.predict(X32))

    # Unfitted.
    save(
        NNRegressor(hidden_layer_sizes=(3, 2), alpha=0.5),
        os.path.join(HERE, "format_v1_unfitted.sknn"),
    )


if __name__ == "__main__":
    main()
