"""Quickstart: a scaled NNClassifier tuned by grid search on the digits data.

Run with ``python examples/quickstart.py``.
"""

import time

from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier
from sknn.optimizers import SGD, Adam

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        ("nn", NNClassifier(early_stopping=True, max_iter=300, random_state=0)),
    ]
)
grid = {
    "nn__hidden_layer_sizes": [(64,), (128, 64)],
    "nn__activation": ["relu", "tanh"],
    "nn__optimizer": [Adam(learning_rate=1e-3), SGD(learning_rate=0.05)],
}
start = time.perf_counter()
search = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X_train, y_train)
elapsed = time.perf_counter() - start

print(
    f"grid search: {len(search.cv_results_['params'])} candidates x 3 folds "
    f"in {elapsed:.1f} s"
)
for params, mean, std in zip(
    search.cv_results_["params"],
    search.cv_results_["mean_test_score"],
    search.cv_results_["std_test_score"],
):
    short = {k.removeprefix("nn__"): v for k, v in params.items()}
    print(f"  {mean:.3f} +/- {std:.3f}  {short}")
print(f"best cross-validated accuracy: {search.best_score_:.3f}")
print(f"best parameters: {search.best_params_}")
print(f"held-out test accuracy: {search.score(X_test, y_test):.3f}")
best = search.best_estimator_.named_steps["nn"]
print(
    f"the best network trained {best.n_iter_} epochs; last epoch: {best.history_[-1]}"
)
