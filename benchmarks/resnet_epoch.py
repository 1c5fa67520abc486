"""One training epoch of a tabular ResNet: sknn's layer network against PyTorch.

Run from the repository root::

    python benchmarks/resnet_epoch.py            # the full run
    python benchmarks/resnet_epoch.py --smoke    # seconds; numbers mean nothing

The workload (float32): ``make_classification(20000, 64, n_classes=10)``,
:class:`sknn.architectures.ResNet` with ``d_block=256``, 2 blocks, hidden
width 512, ``dropout1=0.15``; batch 256, Adam (learning rate 1e-3, L2 alpha
1e-4), reshuffled every epoch. sknn runs the estimator's batch step on
:class:`sknn._network.Network` (gathered rows, dropout masks keyed by row
content, the Adam step with the L2 term); ``estimator`` is the same epoch
through ``NNClassifier(architecture=ResNet(...)).fit``: a 5-epoch fit's wall
time divided by 5, input validation and the end-of-fit checks included;
PyTorch the same network as
``nn.Sequential`` modules with ``torch.optim.Adam``, on 2 threads. The
contenders alternate, one warm-up round is discarded, and the medians and
their ratios are printed.
"""

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import alternate, summarize  # noqa: E402

from sknn import NNClassifier  # noqa: E402
from sknn._network import Network, build  # noqa: E402
from sknn._sampling import KeyedUniforms, row_keys  # noqa: E402
from sknn.architectures import ResNet  # noqa: E402
from sknn.initializers import GlorotUniform  # noqa: E402
from sknn.losses import LogLoss  # noqa: E402
from sknn.optimizers import Adam  # noqa: E402

ALPHA, LR = 1e-4, 1e-3
FULL = dict(n=20000, features=64, classes=10, d_block=256, n_blocks=2, batch=256)
SMOKE = dict(n=600, features=8, classes=3, d_block=16, n_blocks=1, batch=64)


def make_data(cfg):
    X, y = make_classification(
        cfg["n"],
        cfg["features"],
        n_informative=cfg["features"] // 2,
        n_classes=cfg["classes"],
        random_state=0,
    )
    return X.astype(np.float32), y


def architecture(cfg):
    return ResNet(n_blocks=cfg["n_blocks"], d_block=cfg["d_block"], dropout1=0.15)


class SknnResNet:
    """The estimator's stochastic epoch on a layer network, without the estimator."""

    def __init__(self, cfg, X, y):
        self.X, self.batch = X, cfg["batch"]
        self.Y = np.eye(cfg["classes"], dtype=X.dtype)[y]
        layers = architecture(cfg).layers(X.shape[1], cfg["classes"])
        rng = np.random.RandomState(0)
        layout, params, state = build(layers, X, None, rng, GlorotUniform())
        self.net = Network(layout, params, state, LogLoss(), ALPHA)
        self.opt = Adam()
        self.state = self.opt.init(self.net.params)
        self.keys = row_keys(X, 0)
        self.rng, self.epochs = rng, 0

    def epoch(self):
        net, X, Y, n, batch = self.net, self.X, self.Y, self.X.shape[0], self.batch
        order = self.rng.permutation(n)
        salt, self.epochs = 7919 * self.epochs, self.epochs + 1
        total = 0.0
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            noise = KeyedUniforms(self.keys[idx], salt)
            loss = net.loss_grad(net.gather(X, idx), Y[idx], None, noise, add_l2=False)
            self.opt.step(net.params, net.grad, self.state, LR, l2=net.l2)
            total += loss * len(idx)
        return total / n


class EstimatorResNet:
    """The epoch through the estimator: a ``fit`` of a few epochs, per epoch.

    As in ``benchmarks/run.py``, the fit's wall time divided by its epochs,
    so input validation, initialisation and the end-of-fit checks count.
    """

    epochs_per_call = 5

    def __init__(self, cfg, X, y):
        self.X, self.y = X, y
        self.model = NNClassifier(
            architecture=architecture(cfg),
            alpha=ALPHA,
            learning_rate=LR,
            batch_size=cfg["batch"],
            max_iter=self.epochs_per_call,
            n_iter_no_change=self.epochs_per_call,
            random_state=0,
        )

    def epoch(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(self.X, self.y)
        return self.model.loss_


class TorchResNet:
    """The same network and epoch in plain PyTorch."""

    def __init__(self, torch, cfg, X, y):
        nn = torch.nn
        torch.manual_seed(0)
        d, h = cfg["d_block"], 2 * cfg["d_block"]

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.f = nn.Sequential(
                    nn.BatchNorm1d(d),
                    nn.Linear(d, h),
                    nn.ReLU(),
                    nn.Dropout(0.15),
                    nn.Linear(h, d),
                )

            def forward(self, x):
                return x + self.f(x)

        self.model = nn.Sequential(
            nn.Linear(X.shape[1], d),
            *[Block() for _ in range(cfg["n_blocks"])],
            nn.BatchNorm1d(d),
            nn.ReLU(),
            nn.Linear(d, cfg["classes"]),
        )
        # L2 on the linear maps' weights, as sknn's alpha.
        weights = [p for p in self.model.parameters() if p.ndim == 2]
        others = [p for p in self.model.parameters() if p.ndim != 2]
        self.opt = torch.optim.Adam(
            [
                {"params": weights, "weight_decay": ALPHA / cfg["batch"]},
                {"params": others, "weight_decay": 0.0},
            ],
            lr=LR,
        )
        self.torch, self.batch = torch, cfg["batch"]
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
        self.loss = nn.CrossEntropyLoss()

    def epoch(self):
        torch, n = self.torch, self.X.shape[0]
        self.model.train()
        perm = torch.randperm(n)
        total = 0.0
        for start in range(0, n, self.batch):
            idx = perm[start : start + self.batch]
            self.opt.zero_grad(set_to_none=True)
            loss = self.loss(self.model(self.X[idx]), self.y[idx])
            loss.backward()
            self.opt.step()
            total += loss.item() * len(idx)
        return total / n


def timed(model):
    epochs = getattr(model, "epochs_per_call", 1)

    def run():
        t0 = time.perf_counter()
        loss = model.epoch()
        return (time.perf_counter() - t0) / epochs, loss

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    parser.add_argument("--reps", type=int, default=7, help="timed rounds")
    parser.add_argument("--no-torch", action="store_true", help="time sknn only")
    args = parser.parse_args(argv)
    cfg = SMOKE if args.smoke else FULL
    reps = 1 if args.smoke else args.reps
    X, y = make_data(cfg)
    contenders = {
        "sknn": timed(SknnResNet(cfg, X, y)),
        "estimator": timed(EstimatorResNet(cfg, X, y)),
    }
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: timing sknn only.")
        else:
            torch.set_num_threads(2)
            contenders["torch"] = timed(TorchResNet(torch, cfg, X, y))
    print(
        f"ResNet epoch: n={cfg['n']}, {cfg['features']} features, d_block="
        f"{cfg['d_block']}, {cfg['n_blocks']} blocks, batch {cfg['batch']}, Adam"
    )
    times, losses = alternate(contenders, reps, 1, print)
    report = {name: summarize(t) for name, t in times.items()}
    for name, s in report.items():
        print(
            f"{name:9s} median {s['median']:.3f} s/epoch "
            f"(min {s['min']:.3f}, max {s['max']:.3f}), last loss {losses[name]:.4f}"
        )
    if "torch" in times:
        for name in ("sknn", "estimator"):
            paired = [a / b for a, b in zip(times[name], times["torch"])]
            ratio = report[name]["median"] / report["torch"]["median"]
            report[f"{name}/torch"] = ratio
            print(
                f"{name} / torch: {ratio:.3f} (ratio of medians; paired median "
                f"{statistics.median(paired):.3f}; target <= 0.8)"
            )
    return report


if __name__ == "__main__":
    main()
