"""Registries: entry-point plugins, in-process registration, resolve()."""

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

import sknn
from sknn import NNClassifier, NNRegressor
from sknn._engine import forward
from sknn._registry import REGISTRIES
from sknn.activations import Activation, LeakyReLU, Tanh
from sknn.losses import Loss, SquaredError
from sknn.optimizers import Adam
from sknn.testing import check_activation, check_layer, check_loss

PLUGIN_DIST = os.path.join(os.path.dirname(__file__), "plugin_dist")
PLUGIN_MODULES = ("sknn_plugin_test", "sknn_plugin_broken")
LISTERS = {
    "activations": sknn.list_activations,
    "losses": sknn.list_losses,
    "optimizers": sknn.list_optimizers,
    "schedules": sknn.list_schedules,
    "initializers": sknn.list_initializers,
    "callbacks": sknn.list_callbacks,
    "layers": sknn.list_layers,
    "architectures": sknn.list_architectures,
}
REGISTERERS = {
    "activations": sknn.register_activation,
    "losses": sknn.register_loss,
    "optimizers": sknn.register_optimizer,
    "schedules": sknn.register_schedule,
    "initializers": sknn.register_initializer,
    "callbacks": sknn.register_callback,
    "layers": sknn.register_layer,
    "architectures": sknn.register_architecture,
}


def pip_install(name, tmp_path_factory):
    """Build and install ``plugin_dist/<name>`` into a fresh target directory.

    The source is copied first (the build writes into its directory). With
    setuptools importable the build needs no network (no build isolation, no
    index); the virtualenv itself is never touched, so there is nothing to
    uninstall: removing the directory from ``sys.path`` removes the plugin.
    """
    base = tmp_path_factory.mktemp(f"plugin_{name}")
    src, target = base / "src", base / "site"
    shutil.copytree(os.path.join(PLUGIN_DIST, name), src)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--target",
        str(target),
    ]
    if importlib.util.find_spec("setuptools") is not None:
        cmd += ["--no-build-isolation", "--no-index"]
    proc = subprocess.run(cmd + [str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"pip install of {name} failed:\n{proc.stderr}"
    return str(target)


@pytest.fixture(scope="module")
def good_site(tmp_path_factory):
    return pip_install("good", tmp_path_factory)


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory):
    return pip_install("broken", tmp_path_factory)


@pytest.fixture
def clean_registries():
    """Restore every registry, sys.path and sys.modules after the test."""
    saved = {
        k: (dict(r._classes), r._entry_points_loaded) for k, r in REGISTRIES.items()
    }
    path = list(sys.path)
    yield
    sys.path[:] = path
    for module in list(sys.modules):
        if module.split(".")[0] in PLUGIN_MODULES:
            del sys.modules[module]
    importlib.invalidate_caches()
    for kind, (classes, loaded) in saved.items():
        REGISTRIES[kind]._classes = classes
        REGISTRIES[kind]._entry_points_loaded = loaded


def activate(site):
    """Put an installed plugin on sys.path and make the registries look again."""
    sys.path.insert(0, site)
    importlib.invalidate_caches()
    for registry in REGISTRIES.values():
        registry._entry_points_loaded = False


@pytest.fixture
def plugin(good_site, clean_registries):
    activate(good_site)
    return importlib.import_module("sknn_plugin_test")


@pytest.fixture
def broken_plugin(broken_site, clean_registries):
    activate(broken_site)


# --------------------------------------------------------- entry-point plugins
def test_plugin_discovered_by_a_fresh_interpreter(good_site):
    code = "import sknn; print(sknn.list_activations()); print(sknn.list_losses())"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([good_site, *sys.path]))
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    activations, losses = proc.stdout.splitlines()
    assert "'swish_test'" in activations and "'relu'" in activations
    assert "'log_cosh_test'" in losses and "'squared_error'" in losses


def test_plugin_listed_and_resolved(plugin):
    assert "swish_test" in sknn.list_activations()
    assert "relu" in sknn.list_activations()
    assert "log_cosh_test" in sknn.list_losses()
    assert "swish_test" not in sknn.list_losses()
    assert REGISTRIES["activations"].get("swish_test") is plugin.Swish
    resolved = REGISTRIES["losses"].resolve("log_cosh_test", "loss")
    assert type(resolved) is plugin.LogCosh


def test_plugin_layer_listed_and_passes_check_layer(plugin):
    assert "scale_shift_test" in sknn.list_layers()
    assert "dense" in sknn.list_layers()
    assert REGISTRIES["layers"].get("scale_shift_test") is plugin.ScaleShift
    layer = REGISTRIES["layers"].resolve("scale_shift_test", "layer")
    assert type(layer) is plugin.ScaleShift
    check_layer(layer)
    check_layer(plugin.ScaleShift(init_scale=0.5), n_in=3)


def test_plugin_found_on_first_get_without_listing(plugin):
    assert REGISTRIES["activations"].get("swish_test") is plugin.Swish


def test_plugin_components_pass_the_contract_checks(plugin):
    check_activation(plugin.Swish())
    check_activation(plugin.Swish(beta=2.5))
    check_loss(plugin.LogCosh())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimators_train_with_plugin_components(plugin):
    X, y = load_iris(return_X_y=True)
    clf = NNClassifier(
        hidden_layer_sizes=(8,),
        activation="swish_test",
        learning_rate=1e-2,
        max_iter=150,
        random_state=0,
    ).fit(X, y)
    assert clf.score(X, y) > 0.9
    # The fitted network really runs the plugin's activation.
    raw = forward(X, clf.coefs_, clf.intercepts_, plugin.Swish())
    proba = np.exp(raw - raw.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-6, atol=1e-9)
    relu = forward(X, clf.coefs_, clf.intercepts_, sknn.activations.ReLU())
    assert not np.allclose(raw, relu)

    act = plugin.Swish(beta=2.0)
    reg = NNRegressor(
        hidden_layer_sizes=(8,),
        activation=act,
        loss="log_cosh_test",
        learning_rate=1e-2,
        max_iter=100,
        random_state=0,
    )
    assert reg.get_params()["activation__beta"] == 2.0
    target = X[:, 2] - X[:, 0]
    reg.fit(X, target)
    assert reg.score(X, target) > 0.8
    assert act.beta == 2.0 and act.get_params() == {"beta": 2.0}


def test_broken_plugin_raises_import_error_naming_it(broken_plugin):
    for _ in range(2):  # and again: the registry does not pretend it loaded
        with pytest.raises(ImportError) as info:
            sknn.list_activations()
        message = str(info.value)
        assert "'broken_test'" in message
        assert "sknn-plugin-broken" in message
        assert "sknn_plugin_broken:Swish" in message
        assert "not_installed_dependency" in message
        assert isinstance(info.value.__cause__, ImportError)
    with pytest.raises(ImportError, match="broken_test"):
        REGISTRIES["activations"].get("not_a_name")
    # Built-in names never need the entry points.
    assert REGISTRIES["activations"].get("relu") is sknn.activations.ReLU
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        NNClassifier(hidden_layer_sizes=(3,), activation="tanh", max_iter=2).fit(X, y)


def test_plugin_that_is_not_a_component_raises_type_error(broken_plugin):
    with pytest.raises(TypeError) as info:
        sknn.list_schedules()
    message = str(info.value)
    assert "'not_a_schedule_test'" in message
    assert "sknn-plugin-broken" in message
    assert "Schedule" in message


def test_plugin_that_is_not_a_component_fails_every_time(broken_plugin):
    # A failed group is not marked as loaded: the error repeats instead of the
    # plugin (and every entry point after it) silently disappearing.
    for _ in range(2):
        with pytest.raises(TypeError, match="not_a_schedule_test"):
            sknn.list_schedules()


# ------------------------------------------------------------- unknown names
@pytest.mark.parametrize("kind", sorted(REGISTRIES))
def test_unknown_name_lists_the_valid_names(kind):
    registry = REGISTRIES[kind]
    with pytest.raises(ValueError) as info:
        registry.get("no_such_component")
    message = str(info.value)
    assert "'no_such_component'" in message
    for name in registry.names():
        assert name in message
    with pytest.raises(ValueError, match=r"my_param='no_such_component'"):
        registry.resolve("no_such_component", "my_param")


def test_estimator_reports_unknown_names():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=r"activation='swishy'.*leaky_relu.*tanh"):
        NNClassifier(activation="swishy").fit(X, y)
    with pytest.raises(ValueError, match=r"optimizer='adamax'.*adagrad.*sgd"):
        NNClassifier(optimizer="adamax").fit(X, y)


# ------------------------------------------------------ in-process registration
class Cube(Activation):
    """``f(z) = z**3``: registered in-process by the tests."""

    uses_input = True

    def forward(self, z, out=None):
        return np.power(z, 3, out=out)

    def backward(self, grad, a, z=None):
        grad *= 3 * z * z
        return grad


def test_register_activation_in_process(clean_registries):
    assert sknn.register_activation("cube_test")(Cube) is Cube
    assert "cube_test" in sknn.list_activations()
    assert REGISTRIES["activations"].get("cube_test") is Cube
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = NNClassifier(
            hidden_layer_sizes=(6,),
            activation="cube_test",
            learning_rate=1e-2,
            max_iter=100,
            random_state=0,
        ).fit(X, y)
    assert clf.score(X, y) > 0.8
    raw = forward(X, clf.coefs_, clf.intercepts_, Cube())
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[raw.argmax(axis=1)])


@pytest.mark.parametrize("kind", sorted(REGISTERERS))
def test_every_register_helper_feeds_its_registry(kind, clean_registries):
    base = REGISTRIES[kind].base
    cls = type(f"Custom{kind.title()}", (base,), {})
    REGISTERERS[kind](f"custom_{kind}_test")(cls)
    assert f"custom_{kind}_test" in LISTERS[kind]()
    assert REGISTRIES[kind].get(f"custom_{kind}_test") is cls
    others = [k for k in REGISTRIES if k != kind]
    assert all(f"custom_{kind}_test" not in LISTERS[k]() for k in others)


def test_register_rejects_bad_names_and_classes(clean_registries):
    with pytest.raises(TypeError, match="subclass of sknn.activations.Activation"):
        sknn.register_activation("not_an_activation")(SquaredError)
    with pytest.raises(TypeError, match="subclass"):
        sknn.register_activation("not_a_class")(Cube())
    with pytest.raises(TypeError, match="non-empty str"):
        sknn.register_activation("")
    with pytest.raises(TypeError, match="non-empty str"):
        sknn.register_loss(None)
    assert "not_an_activation" not in sknn.list_activations()


# -------------------------------------------------------------------- resolve
def test_resolve_str_class_and_instance():
    registry = REGISTRIES["activations"]
    assert type(registry.resolve("tanh", "activation")) is Tanh
    from_class = registry.resolve(LeakyReLU, "activation")
    assert type(from_class) is LeakyReLU
    assert from_class.negative_slope == 0.01
    mine = LeakyReLU(negative_slope=0.3)
    resolved = registry.resolve(mine, "activation")
    assert resolved is not mine
    assert type(resolved) is LeakyReLU and resolved.get_params() == {
        "negative_slope": 0.3
    }
    resolved.set_params(negative_slope=0.5)
    assert mine.negative_slope == 0.3
    assert registry.class_of("tanh") is Tanh
    assert registry.class_of(LeakyReLU) is LeakyReLU
    assert registry.class_of(mine) is LeakyReLU


def test_resolve_rejects_other_types():
    registry = REGISTRIES["activations"]
    for spec in (3, None, np.tanh, SquaredError, SquaredError(), ["relu"]):
        with pytest.raises(TypeError) as info:
            registry.resolve(spec, "activation")
        message = str(info.value)
        assert message.startswith("activation must be")
        assert "relu" in message and "tanh" in message
    with pytest.raises(TypeError, match="loss must be"):
        REGISTRIES["losses"].resolve(Tanh(), "loss")
    assert isinstance(REGISTRIES["losses"].resolve(SquaredError(), "loss"), Loss)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimator_never_changes_the_users_components():
    X, y = load_iris(return_X_y=True)
    act, opt = LeakyReLU(negative_slope=0.2), Adam(learning_rate=1e-2, beta_1=0.8)
    before = (repr(act), repr(opt), act.get_params(), opt.get_params())
    clf = NNClassifier(
        hidden_layer_sizes=(5,),
        activation=act,
        optimizer=opt,
        max_iter=20,
        random_state=0,
    )
    params = clf.get_params()
    assert params["activation__negative_slope"] == 0.2
    assert params["optimizer__beta_1"] == 0.8
    clf.fit(X, y)
    assert clf.activation is act and clf.optimizer is opt
    assert (repr(act), repr(opt), act.get_params(), opt.get_params()) == before
    assert not hasattr(opt, "t") and not hasattr(opt, "m")
