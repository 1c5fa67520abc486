"""Components: contract checks over every registry, hand-checked values, params."""

import math
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import special
from sklearn.base import clone
from sklearn.metrics import log_loss, mean_poisson_deviance

import sknn
from sknn import (
    activations,
    architectures,
    callbacks,
    initializers,
    layers,
    losses,
    optimizers,
    schedules,
)
from sknn._base import Component
from sknn._registry import REGISTRIES
from sknn.testing import (
    check_activation,
    check_loss,
    check_optimizer,
    check_schedule,
    parametrize_with_component_checks,
    yield_component_checks,
)

DTYPES = [np.float32, np.float64]
MODULES = {
    "activations": activations,
    "losses": losses,
    "optimizers": optimizers,
    "schedules": schedules,
    "initializers": initializers,
    "callbacks": callbacks,
    "layers": layers,
    "architectures": architectures,
}


def make(kind, name, **params):
    return REGISTRIES[kind].get(name)(**params)


def every(kind):
    return sorted(REGISTRIES[kind].names())


# ------------------------------------------------- contract checks, everything
@parametrize_with_component_checks(
    [make("activations", n) for n in every("activations")]
)
def test_activation_contract(component, check):
    check()


def _loss_cases():
    for name in every("losses"):
        for n_outputs in [1, 3]:
            loss = make("losses", name)
            if loss.link == "softmax" and n_outputs == 1:
                n_outputs = 2  # a softmax over one output is constant
            yield loss, {"n_outputs": n_outputs}


@parametrize_with_component_checks(_loss_cases())
def test_loss_contract(component, check):
    check()


@parametrize_with_component_checks([make("optimizers", n) for n in every("optimizers")])
def test_optimizer_contract(component, check):
    check()


@parametrize_with_component_checks(
    [
        (optimizer, {"dtypes": (np.float64,), **settings})
        for optimizer, settings in [
            (optimizers.SGD(nesterov=False), {}),
            # Less momentum, shorter effective steps: more of them.
            (optimizers.SGD(momentum=0.5), {"n_steps": 20000}),
            (optimizers.SGD(learning_rate=2e-3), {}),
            (optimizers.Adam(beta_1=0.5, beta_2=0.99), {}),
            (
                optimizers.AdamW(weight_decay=0.0),
                {"learning_rate": 5e-2, "n_steps": 5000},
            ),
            (optimizers.LBFGS(max_fun=200), {}),
        ]
    ]
)
def test_optimizer_contract_variants(component, check):
    check()


@parametrize_with_component_checks(
    [
        (make("schedules", name), {"max_iter": max_iter})
        for name in every("schedules")
        for max_iter in [1, 50]
    ]
)
def test_schedule_contract(component, check):
    check()


@parametrize_with_component_checks(
    [
        (schedule, {"base_lr": 0.5, "max_iter": 30})
        for schedule in [
            schedules.Cosine(warmup=5, min_lr=1e-4),
            schedules.Cosine(period=7, min_lr=1e-3),
            schedules.Plateau(monitor="valid_loss", patience=1, factor=0.5),
            schedules.StepDecay(step_size=3, gamma=0.5),
            schedules.InvScaling(power_t=1.0),
        ]
    ]
)
def test_schedule_contract_variants(component, check):
    check()


@parametrize_with_component_checks(
    [
        activations.LeakyReLU(negative_slope=0.2),
        activations.ELU(alpha=0.5),
        losses.Huber(delta=0.3),
    ]
)
def test_contract_with_non_default_params(component, check):
    check()


# ------------------------------------------------ the checks catch broken ones
class _NoInPlaceTanh(activations.Tanh):
    def backward(self, grad, a, z=None):
        return grad * (1 - a * a)


class _NeedsZ(activations.SiLU):
    uses_input = False


class _IgnoresOut(activations.Tanh):
    def forward(self, z, out=None):
        return np.tanh(z)


class _Upcasts(activations.Tanh):
    def forward(self, z, out=None):
        result = np.tanh(z.astype(np.float64))
        if out is None:
            return result
        out[...] = result
        return out


class _OverwritesInput(activations.Tanh):
    def forward(self, z, out=None):
        return np.tanh(z, out=z if out is None else out)


class _Counting(activations.Tanh):
    def forward(self, z, out=None):
        self.calls = getattr(self, "calls", 0) + 1
        return super().forward(z, out)


class _NaiveSoftplus(activations.Softplus):
    def forward(self, z, out=None):
        with np.errstate(over="ignore"):
            return np.log(1 + np.exp(z), out=out)


@pytest.mark.parametrize(
    "broken, message",
    [
        (_NoInPlaceTanh(), "must multiply grad in place"),
        (_NeedsZ(), "uses_input"),
        (_IgnoresOut(), r"forward\(z, out=buffer\)"),
        (_Upcasts(), "dtype float64 for float32 input"),
        (_OverwritesInput(), r"forward\(z\) changed its input"),
        (_Counting(), "must never be mutated"),
        (_NaiveSoftplus(), "not finite"),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, Component) else "",
)
def test_check_activation_catches(broken, message):
    with pytest.raises(AssertionError, match=message):
        check_activation(broken)


class _DoubleGradient(losses.SquaredError):
    def gradient(self, y, raw, out=None):
        return 2 * (raw - y)

    def loss_gradient(self, y, raw, out=None):
        return self.loss(y, raw), self.gradient(y, raw)


class _InconsistentFused(losses.SquaredError):
    def loss_gradient(self, y, raw, out=None):
        return 2 * self.loss(y, raw), self.gradient(y, raw, out)


class _ReadsOut(losses.SquaredError):
    def loss_gradient(self, y, raw, out=None):
        if out is None:
            out = np.zeros_like(raw)
        out += raw - y
        return self.loss(y, raw), out


class _MeanLoss(losses.SquaredError):
    def loss(self, y, raw):
        return np.mean(super().loss(y, raw))


class _WrongLink(losses.LogLoss):
    def inverse_link(self, raw, out=None):
        return special.expit(raw, out=out)  # says "softmax", does "logistic"


class _MutatesRaw(losses.SquaredError):
    def gradient(self, y, raw, out=None):
        raw -= y
        return raw.copy()


class _NaiveBinary(losses.BinaryLogLoss):
    def loss(self, y, raw):
        p = 1 / (1 + np.exp(-raw))
        return -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum(axis=1)


class _Float64Loss(losses.SquaredError):
    def loss(self, y, raw):
        return super().loss(y, raw).astype(np.float64)


@pytest.mark.parametrize(
    "broken, message",
    [
        (_DoubleGradient(), "central differences"),
        (_InconsistentFused(), "loss against loss"),
        (_ReadsOut(), "out=buffer"),
        (_MeanLoss(), "per-sample loss"),
        (_WrongLink(), "against the 'softmax' link"),
        (_MutatesRaw(), r"gradient\(y, raw\) \(argument raw\) changed its input"),
        (_NaiveBinary(), "not finite"),
        (_Float64Loss(), "dtype float64 for float32"),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, Component) else "",
)
def test_check_loss_catches(broken, message):
    with np.errstate(all="ignore"), pytest.raises(AssertionError, match=message):
        check_loss(broken)


class _Ascent(optimizers.SGD):
    def step(self, params, grad, state, learning_rate):
        params += learning_rate * grad


class _StateOnSelf(optimizers.SGD):
    def init(self, params):
        self.velocity = np.zeros_like(params)
        return {}

    def step(self, params, grad, state, learning_rate):
        self.velocity *= self.momentum
        self.velocity -= learning_rate * grad
        params += self.velocity


class _NotInPlace(optimizers.SGD):
    def step(self, params, grad, state, learning_rate):
        return params - learning_rate * grad


class _Float64State(optimizers.Adam):
    def init(self, params):
        return {"t": 0, "m": np.zeros(params.shape), "v": np.zeros(params.shape)}


class _Float64LBFGS(optimizers.LBFGS):
    def minimize(self, fun, params, max_iter, tol, callback=None):
        work = params.astype(np.float64)
        super().minimize(fun, work, max_iter, tol, callback)
        params[:] = work


@pytest.mark.parametrize(
    "broken, message",
    [
        (_Ascent(), "diverged|did not converge"),
        (_StateOnSelf(), "mutated"),
        (_NotInPlace(), "in place"),
        (_Float64State(), "state arrays of dtype float64"),
        (_Float64LBFGS(), "must keep their dtype"),
        (optimizers.SGD(learning_rate=0.5), "diverged|did not converge"),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, Component) else "",
)
def test_check_optimizer_catches(broken, message):
    with np.errstate(all="ignore"), pytest.raises(AssertionError, match=message):
        check_optimizer(broken)


class _Zero(schedules.Schedule):
    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        return base_lr * (epoch < 10)


class _Random(schedules.Schedule):
    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        return base_lr * np.random.uniform(0.5, 1.0)


class _EditsHistory(schedules.Schedule):
    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        for record in history:
            record["seen"] = True
        return base_lr


class _Remembers(schedules.Schedule):
    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        self.last = epoch
        return base_lr


class _Text(schedules.Schedule):
    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        return str(base_lr)


@pytest.mark.parametrize(
    "broken, message",
    [
        (_Zero(), "must be finite and positive"),
        (_Random(), "not pure"),
        (_EditsHistory(), "changed the training history"),
        (_Remembers(), "mutated"),
        (_Text(), "real number"),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, Component) else "",
)
def test_check_schedule_catches(broken, message):
    with pytest.raises(AssertionError, match=message):
        check_schedule(broken)


def test_checks_reject_the_wrong_kind():
    with pytest.raises(AssertionError, match="not an activation"):
        check_activation(losses.SquaredError())
    with pytest.raises(AssertionError, match="not a loss"):
        check_loss(activations.Tanh())
    with pytest.raises(AssertionError, match="not an optimizer"):
        check_optimizer(schedules.Constant())
    with pytest.raises(AssertionError, match="not a schedule"):
        check_schedule(optimizers.Adam())


# ----------------------------------------- named checks: one report per check
def failures(component, **options):
    """{check name: message} of the yielded checks that fail."""
    failed = {}
    for name, check in yield_component_checks(component, **options):
        try:
            check()
        except AssertionError as exc:
            failed[name] = str(exc)
    return failed


class _WrongDerivativeIgnoresOut(activations.Tanh):
    def forward(self, z, out=None):
        return np.tanh(z)

    def backward(self, grad, a, z=None):
        grad *= 1 - a  # forgets the factor 1 + a
        return grad


class _WrongGradientNaiveLoss(losses.BinaryLogLoss):
    def loss(self, y, raw):
        p = 1 / (1 + np.exp(-raw))
        return -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum(axis=1)

    def gradient(self, y, raw, out=None):
        return 2 * super().gradient(y, raw, out)


def test_a_broken_activation_fails_each_check_it_breaks():
    broken = _WrongDerivativeIgnoresOut()
    failed = failures(broken)
    assert sorted(failed) == [
        "backward_derivative",
        "backward_return_value",
        "forward_out_float32",
        "forward_out_float64",
    ]
    for name, message in failed.items():
        assert message.startswith("_WrongDerivativeIgnoresOut(): ")
        assert message.endswith(f" (check: {name})")
    assert "must multiply grad in place by f'(z)" in failed["backward_derivative"]
    assert "forward(z, out=buffer) (float32)" in failed["forward_out_float32"]
    # The other checks ran and passed.
    names = [name for name, _ in yield_component_checks(broken)]
    assert len(names) == 13 and names[-1] == "unchanged_by_use"
    assert failures(activations.Tanh()) == {}


def test_a_broken_loss_fails_each_check_it_breaks():
    with np.errstate(all="ignore"):
        failed = failures(_WrongGradientNaiveLoss())
    assert sorted(failed) == [
        "extreme_outputs_float32",
        "extreme_outputs_float64",
        "gradient_finite_differences",
        "loss_gradient_finite_differences",
    ]
    assert "central differences" in failed["gradient_finite_differences"]
    assert "not finite at extreme raw" in failed["extreme_outputs_float64"]
    assert failures(losses.BinaryLogLoss()) == {}


@pytest.mark.parametrize(
    "broken, check, first",
    [
        (_WrongDerivativeIgnoresOut(), check_activation, "backward_derivative"),
        (_WrongGradientNaiveLoss(), check_loss, "gradient_finite_differences"),
    ],
    ids=["activation", "loss"],
)
def test_check_functions_stop_at_the_first_failing_check(broken, check, first):
    with np.errstate(all="ignore"):
        with pytest.raises(AssertionError) as info:
            check(broken)
        expected = failures(broken)[first]
    assert str(info.value) == expected
    assert expected.startswith(f"{type(broken).__name__}(): ")
    assert expected.endswith(f" (check: {first})")


class _MarksFirstUse(activations.Tanh):
    def forward(self, z, out=None):
        self.__dict__.setdefault("used", True)
        return super().forward(z, out)


@pytest.mark.parametrize("broken", [_MarksFirstUse(), _Counting()], ids=type)
def test_unchanged_by_use_compares_with_the_component_before_any_check(broken):
    # After all the other checks, and alone: it runs the others itself.
    assert list(failures(broken)) == ["unchanged_by_use"]
    fresh = type(broken)()
    alone = dict(yield_component_checks(fresh))["unchanged_by_use"]
    with pytest.raises(
        AssertionError, match=r"never be mutated.*\(check: unchanged_by_use\)"
    ):
        alone()


def test_optimizer_runs_are_shared_between_checks():
    runs = []

    class CountedLBFGS(optimizers.LBFGS):
        def minimize(self, *args, **kwargs):
            runs.append(args[1].dtype)
            return super().minimize(*args, **kwargs)

    options = {"dtypes": (np.float64,), "n_steps": 30}
    assert [name for name, _ in yield_component_checks(CountedLBFGS(), **options)] == [
        "quadratic_float64",
        "quadratic_float64_reproducible",
        "rosenbrock_float64",
        "rosenbrock_float64_reproducible",
        "unchanged_by_use",
    ]
    failures(CountedLBFGS(), **options)
    # Two runs per problem, as check_optimizer makes: the reproducibility
    # check reuses the first run, and unchanged_by_use runs nothing again.
    assert runs == [np.float64] * 4
    runs.clear()
    dict(yield_component_checks(CountedLBFGS(), **options))["unchanged_by_use"]()
    assert runs == [np.float64] * 4


def test_parametrize_with_component_checks_ids():
    tanh, log_loss_ = activations.Tanh(), losses.LogLoss()
    mark = parametrize_with_component_checks([tanh, (log_loss_, {"n_outputs": 2})])
    argnames, params = mark.args
    assert argnames == "component, check"
    tanh_names = [name for name, _ in yield_component_checks(tanh)]
    loss_names = [name for name, _ in yield_component_checks(log_loss_, n_outputs=2)]
    assert [p.id for p in params] == [f"Tanh()-{n}" for n in tanh_names] + [
        f"LogLoss()-n_outputs=2-{n}" for n in loss_names
    ]
    assert "Tanh()-backward_derivative" in [p.id for p in params]
    assert all(p.values[0] is tanh for p in params[: len(tanh_names)])
    assert [p.values[1].__name__ for p in params[: len(tanh_names)]] == tanh_names
    mark = parametrize_with_component_checks(
        [(optimizers.SGD(momentum=0.5), {"dtypes": (np.float64,), "n_steps": 9})]
    )
    assert mark.args[1][0].id == "SGD(momentum=0.5)-dtypes=float64-n_steps=9-" + (
        "quadratic_float64"
    )


def test_a_plugin_test_report_names_each_failing_check(tmp_path):
    (tmp_path / "test_plugin.py").write_text(
        "from sknn.activations import Tanh\n"
        "from sknn.testing import parametrize_with_component_checks\n\n\n"
        "class BrokenTanh(Tanh):\n"
        "    def backward(self, grad, a, z=None):\n"
        "        grad *= 1 - a\n"
        "        return grad\n\n\n"
        "@parametrize_with_component_checks([BrokenTanh(), Tanh()])\n"
        "def test_contract(component, check):\n"
        "    check()\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(sknn.__file__).parents[1]), env.get("PYTHONPATH", "")]
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    failed = re.findall(
        r"^FAILED test_plugin.py::test_contract\[(.*?)\]", result.stdout, re.M
    )
    assert sorted(failed) == [
        "BrokenTanh()-backward_derivative",
        "BrokenTanh()-backward_return_value",
    ], result.stdout
    assert "2 failed, 24 passed" in result.stdout
    assert "AssertionError: BrokenTanh(): backward(grad, a, z=None) must" in (
        result.stdout
    )


def test_checks_of_an_unknown_kind_raise_type_error(monkeypatch):
    for component in [initializers.GlorotUniform(), callbacks.EarlyStopping(), 3]:
        with pytest.raises(
            TypeError,
            match=r"no contract checks for .*activation \(sknn.activations.Activation\)"
            r", loss \(sknn.losses.Loss\), optimizer .*, schedule",
        ):
            yield_component_checks(component)
    with pytest.raises(TypeError, match=r"instance, such as Tanh\(\), not the class"):
        parametrize_with_component_checks([activations.Tanh])
    with pytest.raises(
        TypeError,
        match=r"Unknown option\(s\) \['n_outputs'\] for the checks of an activation; "
        r"accepted: \['dtypes'\]",
    ):
        yield_component_checks(activations.Tanh(), n_outputs=2)
    monkeypatch.setitem(sys.modules, "pytest", None)
    with pytest.raises(ImportError, match="needs pytest; install it"):
        parametrize_with_component_checks([activations.Tanh()])


# ---------------------------------------------------------- activation values
Z = np.array([[-2.0, -0.5, 0.5, 2.0]])
EXPECTED_ACTIVATIONS = {
    "identity": Z,
    "logistic": 1 / (1 + np.exp(-Z)),
    "tanh": np.tanh(Z),
    "relu": np.array([[0.0, 0.0, 0.5, 2.0]]),
    "leaky_relu": np.array([[-0.02, -0.005, 0.5, 2.0]]),
    "elu": np.array([[math.exp(-2) - 1, math.exp(-0.5) - 1, 0.5, 2.0]]),
    "selu": 1.0507009873554805
    * np.where(Z > 0, Z, 1.6732632423543772 * (np.exp(Z) - 1)),
    "gelu": Z * 0.5 * (1 + special.erf(Z / math.sqrt(2))),
    "softplus": np.log1p(np.exp(Z)),
    "silu": Z / (1 + np.exp(-Z)),
}


def test_every_activation_has_a_hand_checked_value():
    assert sorted(EXPECTED_ACTIVATIONS) == every("activations")


@pytest.mark.parametrize("name", sorted(EXPECTED_ACTIVATIONS))
def test_activation_values(name):
    assert_allclose(
        make("activations", name).forward(Z),
        EXPECTED_ACTIVATIONS[name],
        rtol=1e-12,
        atol=1e-15,
    )


def test_activation_known_points():
    assert activations.GELU().forward(np.array([[1.0]]))[0, 0] == pytest.approx(
        0.8413447460685429
    )
    assert activations.SELU().forward(np.array([[1.0]]))[0, 0] == pytest.approx(
        1.0507009873554805
    )
    assert activations.Softplus().forward(np.array([[0.0]]))[0, 0] == pytest.approx(
        math.log(2)
    )
    assert activations.LeakyReLU(negative_slope=0.3).forward(np.array([[-2.0]]))[
        0, 0
    ] == pytest.approx(-0.6)
    big = np.array([[-1000.0, 1000.0]])
    assert_array_equal(activations.Softplus().forward(big), [[0.0, 1000.0]])
    assert_array_equal(activations.Logistic().forward(big), [[0.0, 1.0]])


# --------------------------------------------------------------- loss values
def test_loss_values_by_hand():
    y = np.array([[1.0, -2.0], [0.5, 3.0]])
    raw = np.array([[1.5, 0.0], [0.0, 3.25]])
    assert_allclose(
        losses.SquaredError().loss(y, raw), [0.5 * (0.25 + 4), 0.5 * 0.3125]
    )
    assert_allclose(losses.AbsoluteError().loss(y, raw), [2.5, 0.75])
    assert_allclose(losses.AbsoluteError().gradient(y, raw), [[1, 1], [-1, 1]])
    huber = losses.Huber(delta=1.0)
    # |r| = 0.5 -> 0.125; 2 -> 1.5; 0.5 -> 0.125; 0.25 -> 0.03125
    assert_allclose(huber.loss(y, raw), [0.125 + 1.5, 0.125 + 0.03125])
    assert_allclose(huber.gradient(y, raw), [[0.5, 1.0], [-0.5, 0.25]])


def test_log_loss_matches_sklearn():
    rng = np.random.RandomState(0)
    raw = rng.normal(size=(20, 4))
    labels = rng.randint(4, size=20)
    y = np.eye(4)[labels]
    loss = losses.LogLoss()
    proba = loss.inverse_link(raw)
    assert loss.loss(y, raw).mean() == pytest.approx(log_loss(labels, proba), rel=1e-12)
    assert loss.loss(np.array([[1.0, 0.0]]), np.zeros((1, 2)))[0] == pytest.approx(
        math.log(2)
    )
    # Stable where a naive softmax overflows.
    assert_allclose(loss.loss(np.array([[0.0, 1.0]]), np.array([[1e4, -1e4]])), [2e4])


def test_binary_log_loss_matches_sklearn():
    rng = np.random.RandomState(1)
    raw = rng.normal(size=(30, 2))
    y = (rng.uniform(size=(30, 2)) < 0.5).astype(float)
    loss = losses.BinaryLogLoss()
    proba = loss.inverse_link(raw)
    expected = sum(log_loss(y[:, j], proba[:, j]) for j in range(2))
    assert loss.loss(y, raw).mean() == pytest.approx(expected, rel=1e-12)
    assert_allclose(loss.loss(np.array([[0.0]]), np.array([[1e4]])), [1e4])


def test_poisson_is_half_the_sklearn_deviance():
    rng = np.random.RandomState(2)
    y = rng.poisson(3.0, (25, 1)).astype(float)
    raw = rng.normal(scale=0.5, size=(25, 1)) + 1.0
    loss = losses.Poisson()
    mu = loss.inverse_link(raw)
    assert loss.loss(y, raw).mean() == pytest.approx(
        0.5 * mean_poisson_deviance(y.ravel(), mu.ravel()), rel=1e-12
    )
    # Zero at the optimum raw = log(y), including y = 0 in the limit.
    y = np.array([[2.0, 5.0]])
    assert_allclose(loss.loss(y, np.log(y)), [0.0], atol=1e-12)
    with pytest.raises(ValueError, match="non-negative"):
        loss.check_target(np.array([[1.0], [-0.5]]))
    loss.check_target(np.array([[0.0], [2.0]]))


def test_loss_links():
    assert losses.SquaredError().link == "identity"
    assert losses.Poisson().link == "exp"
    assert losses.LogLoss().link == "softmax" and losses.LogLoss().classification
    assert losses.BinaryLogLoss().link == "logistic"
    assert not losses.Huber().classification


# ----------------------------------------------------------- optimizer values
P0 = np.array([0.5, -1.0, 2.0])
G1 = np.array([0.1, -0.3, 0.02])
G2 = np.array([-0.2, 0.4, 0.05])


def run_steps(optimizer, lr, grads=(G1, G2), dtype=np.float64):
    params = P0.astype(dtype)
    state = optimizer.init(params)
    for g in grads:
        optimizer.step(params, g.astype(dtype), state, lr)
    return params, state


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_two_steps_by_hand(dtype):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    # scikit-learn's AdamOptimizer, written out.
    m = (1 - b1) * G1
    v = (1 - b2) * G1**2
    p = P0 - lr * math.sqrt(1 - b2) / (1 - b1) * m / (np.sqrt(v) + eps)
    m = b1 * m + (1 - b1) * G2
    v = b2 * v + (1 - b2) * G2**2
    p = p - lr * math.sqrt(1 - b2**2) / (1 - b1**2) * m / (np.sqrt(v) + eps)
    params, state = run_steps(optimizers.Adam(), lr, dtype=dtype)
    assert params.dtype == dtype and state["m"].dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert_allclose(params, p, rtol=rtol)
    assert_allclose(state["m"], m, rtol=rtol)
    assert_allclose(state["v"], v, rtol=rtol)
    assert state["t"] == 2


def test_adamw_decays_before_the_adam_step():
    lr, wd = 0.01, 0.1
    adam_params, _ = run_steps(optimizers.Adam(), lr, grads=(G1,))
    params, _ = run_steps(optimizers.AdamW(weight_decay=wd), lr, grads=(G1,))
    assert_allclose(params, adam_params - lr * wd * P0, rtol=1e-12)
    no_decay, _ = run_steps(optimizers.AdamW(weight_decay=0.0), lr)
    assert_allclose(no_decay, run_steps(optimizers.Adam(), lr)[0], rtol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_nesterov_two_steps_by_hand(dtype):
    lr, mu = 0.1, 0.9
    # scikit-learn's SGDOptimizer with nesterov=True, written out.
    v = -lr * G1
    p = P0 + mu * v - lr * G1
    v = mu * v - lr * G2
    p = p + mu * v - lr * G2
    params, state = run_steps(optimizers.SGD(), lr, dtype=dtype)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert params.dtype == dtype
    assert_allclose(params, p, rtol=rtol)
    assert_allclose(state["velocity"], v, rtol=rtol)


def test_sgd_classic_momentum_and_plain():
    lr, mu = 0.1, 0.5
    v = -lr * G1
    p = P0 + v
    v = mu * v - lr * G2
    p = p + v
    assert_allclose(run_steps(optimizers.SGD(momentum=mu, nesterov=False), lr)[0], p)
    assert_allclose(
        run_steps(optimizers.SGD(momentum=0.0), lr)[0], P0 - lr * G1 - lr * G2
    )


def test_rmsprop_and_adagrad_by_hand():
    lr, rho, eps = 0.01, 0.9, 1e-8
    v = (1 - rho) * G1**2
    p = P0 - lr * G1 / (np.sqrt(v) + eps)
    v = rho * v + (1 - rho) * G2**2
    p = p - lr * G2 / (np.sqrt(v) + eps)
    assert_allclose(run_steps(optimizers.RMSprop(), lr)[0], p, rtol=1e-12)
    s = G1**2
    p = P0 - lr * G1 / (np.sqrt(s) + eps)
    s = s + G2**2
    p = p - lr * G2 / (np.sqrt(s) + eps)
    params, state = run_steps(optimizers.Adagrad(), lr)
    assert_allclose(params, p, rtol=1e-12)
    assert_allclose(state["sum_sq"], s, rtol=1e-12)


def test_optimizer_state_is_separate_and_resumable():
    opt = optimizers.Adam()
    params, state = run_steps(opt, 0.01, grads=(G1,))
    resumed = pickle.loads(pickle.dumps((params, state)))
    opt.step(params, G2.copy(), state, 0.01)
    opt.step(resumed[0], G2.copy(), resumed[1], 0.01)
    assert_array_equal(params, resumed[0])
    assert_array_equal(params, run_steps(opt, 0.01)[0])
    assert repr(opt) == "Adam()" and vars(opt) == vars(optimizers.Adam())


@pytest.mark.parametrize("dtype", DTYPES)
def test_lbfgs_minimize_keeps_dtype_and_stops_on_request(dtype):
    rng = np.random.RandomState(0)
    A = rng.normal(size=(6, 6))
    A = A @ A.T + 6 * np.eye(6)
    b = rng.normal(size=6)

    def fun(p):
        assert p.dtype == dtype
        g = (A @ p - b).astype(dtype)
        return float(0.5 * p @ A @ p - b @ p), g

    params = np.zeros(6, dtype)
    result = optimizers.LBFGS().minimize(fun, params, 100, 1e-10)
    assert params.dtype == dtype
    # scipy's default ftol ends the run at about 1e-5 (1e-3 in float32).
    tol = 1e-4 if dtype == np.float64 else 1e-3
    assert_allclose(params, np.linalg.solve(A, b), rtol=tol, atol=tol)
    assert result.success or dtype == np.float32

    seen = []

    def stop_after_three(loss):
        seen.append(loss)
        if len(seen) == 3:
            raise StopIteration

    params = np.zeros(6, dtype)
    result = optimizers.LBFGS().minimize(fun, params, 100, 1e-10, stop_after_three)
    assert len(seen) == 3 and result.nit == 3
    assert all(isinstance(v, float) for v in seen)
    assert seen == sorted(seen, reverse=True)
    assert fun(params)[0] == pytest.approx(seen[-1], rel=1e-5)


# ---------------------------------------------------------- initializer values
@pytest.mark.parametrize(
    "activation, factor", [("relu", 6.0), ("tanh", 6.0), ("logistic", 2.0), (None, 6.0)]
)
def test_glorot_uniform_matches_sklearn_draws(activation, factor):
    W, b = np.empty((7, 5)), np.empty(5)
    initializers.GlorotUniform()(W, b, np.random.RandomState(3), activation)
    # scikit-learn's MLP: bound sqrt(factor / (fan_in + fan_out)), weights then biases.
    bound = math.sqrt(factor / 12)
    rng = np.random.RandomState(3)
    assert_array_equal(W, rng.uniform(-bound, bound, (7, 5)))
    assert_array_equal(b, rng.uniform(-bound, bound, 5))
    assert np.abs(W).max() <= bound


def test_glorot_uniform_float32_buffers():
    W, b = np.empty((4, 3), np.float32), np.empty(3, np.float32)
    initializers.GlorotUniform()(W, b, np.random.RandomState(0), "relu")
    assert W.dtype == np.float32 and np.abs(W).max() <= math.sqrt(6 / 7)
    assert np.all(b != 0)


@pytest.mark.parametrize(
    "name, std",
    [
        ("glorot_normal", math.sqrt(2 / (300 + 200))),
        ("he_normal", math.sqrt(2 / 300)),
        ("lecun_normal", math.sqrt(1 / 300)),
        ("he_uniform", math.sqrt(6 / 300) / math.sqrt(3)),
    ],
)
def test_scaled_initializers(name, std):
    W, b = np.empty((300, 200)), np.full(200, 7.0)
    make("initializers", name)(W, b, np.random.RandomState(0), "relu")
    assert W.std() == pytest.approx(std, rel=0.02)
    assert abs(W.mean()) < 0.01 * std * 10
    assert not b.any()
    if name == "he_uniform":
        assert np.abs(W).max() <= math.sqrt(6 / 300)


def test_initializers_are_reproducible():
    for name in every("initializers"):
        draws = []
        for _ in range(2):
            W, b = np.empty((5, 4)), np.empty(4)
            make("initializers", name)(W, b, np.random.RandomState(11), "tanh")
            draws.append((W, b))
        assert_array_equal(draws[0][0], draws[1][0])
        assert_array_equal(draws[0][1], draws[1][1])


# ------------------------------------------------------------- schedule values
def history_of(losses_, key="train_loss"):
    return [{"epoch": i + 1, key: v} for i, v in enumerate(losses_)]


def test_plateau_reduction_by_hand():
    sched = schedules.Plateau(factor=0.5, patience=2, threshold=0.0, min_lr=0.01)
    hist = history_of([1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8])
    # Two epochs without improvement (the 3rd and 4th) halve the rate, and the
    # count starts again: the 5th and 6th halve it again.
    rates = [sched(0.1, e, hist[:e]) for e in range(len(hist) + 1)]
    assert rates == pytest.approx(
        [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125]
    )
    # Improvements below the threshold do not count.
    sched = schedules.Plateau(factor=0.5, patience=2, threshold=0.05)
    assert sched(0.1, 4, history_of([1.0, 0.97, 0.95, 0.93])) == pytest.approx(0.05)
    # Never below min_lr, never above base_lr.
    sched = schedules.Plateau(factor=0.1, patience=1, min_lr=0.004)
    assert sched(0.1, 5, history_of([1.0] * 5)) == pytest.approx(0.004)
    assert sched(0.001, 5, history_of([1.0] * 5)) == pytest.approx(0.001)


def test_plateau_monitors_validation_loss():
    sched = schedules.Plateau(factor=0.5, patience=1, monitor="valid_loss")
    hist = [{"train_loss": 1.0 / (i + 1), "valid_loss": 1.0} for i in range(3)]
    assert sched(0.1, 3, hist) == pytest.approx(0.025)
    assert sched(0.1, 3, history_of([1.0, 1.0, 1.0])) == 0.1  # no valid_loss: no drop


def test_cosine_warmup_and_decay_by_hand():
    sched = schedules.Cosine(warmup=3)
    rates = [sched(0.1, e, max_iter=13) for e in range(15)]
    assert rates[:4] == pytest.approx([0.025, 0.05, 0.075, 0.1])
    # period = max_iter - warmup = 10: halfway at epoch 8, bottom at 13.
    assert rates[8] == pytest.approx(0.05)
    assert rates[5] == pytest.approx(0.05 * (1 + math.cos(math.pi * 0.2)))
    assert rates[13] == pytest.approx(0.0, abs=1e-15) and rates[14] == rates[13]
    assert all(a >= b for a, b in zip(rates[3:], rates[4:]))
    sched = schedules.Cosine(period=4, min_lr=0.01)
    assert [sched(0.1, e, max_iter=100) for e in (0, 2, 4, 9)] == pytest.approx(
        [0.1, 0.055, 0.01, 0.01]
    )


def test_simple_schedules_by_hand():
    assert schedules.Constant()(0.3, 17) == 0.3
    assert schedules.InvScaling(power_t=0.5)(0.1, 3) == pytest.approx(0.05)
    assert [schedules.StepDecay(step_size=2, gamma=0.5)(0.1, e) for e in range(5)] == (
        pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    )
    assert schedules.Exponential(gamma=0.9)(0.1, 2) == pytest.approx(0.081)


# --------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "kind, name", [(k, n) for k in sorted(REGISTRIES) for n in every(k)]
)
def test_component_params_clone_and_repr(kind, name):
    cls = REGISTRIES[kind].get(name)
    assert cls.__module__ == MODULES[kind].__name__
    assert cls.__name__ in MODULES[kind].__all__
    component = cls()
    params = component.get_params()
    assert all(
        isinstance(v, (str, int, float, bool, type(None))) for v in params.values()
    )
    twin = clone(component)
    assert twin is not component and type(twin) is cls
    assert twin.get_params() == params
    assert repr(component) == f"{cls.__name__}()"
    assert pickle.loads(pickle.dumps(component)).get_params() == params
    assert component.set_params(**params) is component
    assert component.get_params() == params
    with pytest.raises(ValueError, match=r"Invalid parameter 'no_such_param'.*Valid"):
        component.set_params(no_such_param=1)
    # The repr of a configured instance rebuilds it.
    floats = sorted(k for k, v in params.items() if isinstance(v, float))
    if floats:
        component.set_params(**{floats[0]: params[floats[0]] * 0.5 + 0.125})
        assert floats[0] in repr(component)
    rebuilt = eval(repr(component), vars(MODULES[kind]))
    assert type(rebuilt) is cls and rebuilt.get_params() == component.get_params()


def test_repr_shows_non_defaults_only():
    assert repr(optimizers.Adam(learning_rate=0.01)) == "Adam(learning_rate=0.01)"
    assert repr(optimizers.SGD(momentum=0.5, nesterov=False)) == (
        "SGD(momentum=0.5, nesterov=False)"
    )
    assert repr(activations.LeakyReLU(0.01)) == "LeakyReLU()"
    assert repr(schedules.Cosine(min_lr=np.float64(0.0))) == "Cosine()"


class _Warmup(schedules.Schedule):
    """A schedule holding another one (nested parameters)."""

    def __init__(self, inner=None, epochs=2):
        self.inner = inner
        self.epochs = epochs

    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        scale = min(1.0, (epoch + 1) / (self.epochs + 1))
        return scale * self.inner(base_lr, epoch, history, max_iter)


def test_nested_params():
    sched = _Warmup(inner=schedules.StepDecay(step_size=5), epochs=3)
    params = sched.get_params()
    assert params["inner__step_size"] == 5 and params["inner__gamma"] == 0.1
    assert params["epochs"] == 3 and params["inner"] is sched.inner
    assert "inner__step_size" not in sched.get_params(deep=False)
    sched.set_params(inner__gamma=0.5, epochs=1)
    assert sched.inner.gamma == 0.5 and sched.epochs == 1
    twin = clone(sched)
    assert twin.inner is not sched.inner
    assert twin.get_params(deep=False).keys() == sched.get_params(deep=False).keys()
    assert twin.inner.get_params() == sched.inner.get_params()
    with pytest.raises(ValueError, match="Invalid parameter 'nope' for StepDecay"):
        sched.set_params(inner__nope=1)
    with pytest.raises(ValueError, match="Invalid parameter 'outer' for _Warmup"):
        sched.set_params(outer__gamma=1)
    check_schedule(sched)


def test_components_must_name_their_params():
    class Splat(activations.Tanh):
        def __init__(self, *args):
            self.args = args

    with pytest.raises(TypeError, match="must name its parameters explicitly"):
        Splat().get_params()


def test_estimator_exposes_nested_component_params():
    est = sknn.NNClassifier(optimizer=optimizers.Adam(), lr_schedule=schedules.Cosine())
    params = est.get_params()
    assert params["optimizer__beta_1"] == 0.9
    assert params["lr_schedule__warmup"] == 0
    est.set_params(optimizer__learning_rate=0.05, lr_schedule__warmup=4)
    assert est.optimizer.learning_rate == 0.05 and est.lr_schedule.warmup == 4
    twin = clone(est)
    assert twin.optimizer is not est.optimizer
    assert twin.optimizer.learning_rate == 0.05
