"""``nnfs-ref train``: the seed's training run (its Cell [31]) with the manual/ classes.

NumPy only (no JAX); matplotlib is imported only to draw ``--plot``.

With the defaults the printed log is identical, line for line, to the one
the seed's own code prints: the command calls ``nnfs.init()`` as the seed
does (float32 data and parameters, ``np.dot`` computed in float64), builds
the same data and layers in the same order, and prints the same numbers.
The printed loss is the seed's: the categorical cross-entropy of the softmax
output, clipped to [1e-7, 1 - 1e-7]. The fused layer's own loss (exact,
unclipped; README, Errata 4) differs from it only when a true-class
probability leaves the clip range; it is the one recorded for ``--plot`` and
watched for divergence.
"""

import dataclasses
import os
import sys

import numpy as np

import manual

PARAMETER_NAMES = ("dense1_weights", "dense1_biases", "dense2_weights", "dense2_biases")


@dataclasses.dataclass
class TrainConfig:
    epochs: int = 10001
    learning_rate: float = 0.5
    hidden: int = 64
    samples: int = 100
    classes: int = 3
    print_every: int = 100
    seed: int = 0
    nnfs_init: bool = True
    quiet: bool = False
    progress: bool = True

    def validate(self):
        """Raise ``ValueError`` naming the first option that makes no sense."""
        checks = [
            (self.epochs >= 0, f"--epochs must be >= 0, got {self.epochs}"),
            (self.hidden >= 1, f"--hidden must be >= 1, got {self.hidden}"),
            (self.samples >= 1, f"--samples must be >= 1, got {self.samples}"),
            (self.classes >= 2, f"--classes must be >= 2, got {self.classes}"),
            (self.print_every >= 1, f"--print-every must be >= 1, got {self.print_every}"),
            (np.isfinite(self.learning_rate) and self.learning_rate > 0,
             f"--learning-rate must be positive and finite, got {self.learning_rate}"),
            (self.seed >= 0, f"--seed must be >= 0, got {self.seed}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


class Diverged(RuntimeError):
    """The loss became non-finite."""


@dataclasses.dataclass
class TrainResult:
    X: np.ndarray
    y: np.ndarray
    layers: tuple
    losses: np.ndarray      # (epochs,) the fused layer's exact loss at each epoch
    accuracies: np.ndarray  # (epochs,)

    def parameters(self):
        dense1, dense2 = self.layers
        return dict(zip(PARAMETER_NAMES,
                        (dense1.weights, dense1.biases, dense2.weights, dense2.biases)))


def load_parameters(path, hidden, classes):
    """Read ``--load PATH.npz`` without pickle; check every array is there with its shape.

    Returns a dict ``name -> ndarray``; raises ``ValueError`` naming what is wrong.
    """
    expected = dict(zip(PARAMETER_NAMES, ((2, hidden), (1, hidden), (hidden, classes),
                                          (1, classes))))
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read parameters from {path}: {exc}") from None
    missing = [name for name in PARAMETER_NAMES if name not in arrays]
    if missing:
        raise ValueError(f"{path} lacks the array(s) {', '.join(missing)} "
                         f"(expected {', '.join(PARAMETER_NAMES)})")
    for name, shape in expected.items():
        value = arrays[name]
        if not np.issubdtype(value.dtype, np.floating):
            raise ValueError(f"{path}: {name} must hold floats, got dtype {value.dtype}")
        if value.shape != shape:
            raise ValueError(f"{path}: {name} has shape {value.shape}, expected {shape} "
                             f"for --hidden {hidden} --classes {classes}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{path}: {name} holds non-finite values")
    return {name: arrays[name] for name in PARAMETER_NAMES}


def save_parameters(path, result):
    """Write the trained parameters to ``path`` with ``np.savez`` (no pickle)."""
    np.savez(path, **result.parameters())


def train(config, initial=None, out=sys.stdout):
    """Run the seed's training loop; print its log to ``out``; return a :class:`TrainResult`.

    ``initial``: parameters from :func:`load_parameters` to start from. Call
    ``nnfs.init()`` first to reproduce the seed (the CLI does).
    """
    from nnfs.datasets import spiral_data

    X, y = spiral_data(samples=config.samples, classes=config.classes)
    dense1 = manual.Layer_Dense(2, config.hidden)
    activation1 = manual.Activation_ReLU()
    dense2 = manual.Layer_Dense(config.hidden, config.classes)
    loss_activation = manual.Activation_Softmax_Loss_CategoricalCrossentropy()
    optimizer = manual.Optimizer_SGD(config.learning_rate)
    if initial is not None:
        for layer, key in ((dense1, "dense1"), (dense2, "dense2")):
            layer.weights = initial[f"{key}_weights"].astype(layer.weights.dtype)
            layer.biases = initial[f"{key}_biases"].astype(layer.biases.dtype)

    losses = np.empty(config.epochs)
    accuracies = np.empty(config.epochs)
    # The seed's epoch loop (Cell [31]); a diverging run is caught by its loss, not warnings.
    with _progress_bar(config) as bar, np.errstate(all="ignore"):
        for epoch in range(config.epochs):
            dense1.forward(X)
            activation1.forward(dense1.output)
            dense2.forward(activation1.output)
            loss = loss_activation.forward(dense2.output, y)
            accuracy = np.mean(np.argmax(loss_activation.output, axis=1) == y)
            losses[epoch], accuracies[epoch] = loss, accuracy
            if not np.isfinite(loss):
                raise Diverged(f"training diverged at epoch {epoch}: the loss is {loss} "
                               f"(is --learning-rate {config.learning_rate} too large?)")
            if not config.quiet and not epoch % config.print_every:
                seed_loss = loss_activation.loss.calculate(loss_activation.output, y)
                bar.write(f"epoch: {epoch}, acc: {accuracy:.3f}, loss: {seed_loss:.3f}",
                          file=out)
            loss_activation.backward(loss_activation.output, y)
            dense2.backward(loss_activation.dinputs)
            activation1.backward(dense2.dinputs)
            dense1.backward(activation1.dinputs)
            optimizer.update_params(dense1)
            optimizer.update_params(dense2)
            bar.update()
    return TrainResult(X, y, (dense1, dense2), losses, accuracies)


#: Runs with fewer epochs than this get no progress bar.
PROGRESS_MIN_EPOCHS = 2000


def _progress_bar(config):
    """A tqdm bar on stderr, only for long runs on a terminal and not ``--quiet``."""
    from tqdm import tqdm

    enabled = (config.progress and not config.quiet and config.epochs >= PROGRESS_MIN_EPOCHS
               and sys.stderr.isatty())
    try:  # a terminal that reports no size (some ptys) would get no bar at all
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError):
        size = os.terminal_size((0, 0))
    return tqdm(total=config.epochs, file=sys.stderr, disable=not enabled, unit="epoch",
                leave=False, mininterval=0.2, ncols=size.columns or 80, nrows=size.lines or 24)


def predict(layers, X):
    """Class predictions of the trained network for points ``X`` (batch, 2)."""
    dense1, dense2 = layers
    relu = manual.Activation_ReLU()
    dense1.forward(X)
    relu.forward(dense1.output)
    dense2.forward(relu.output)
    return np.argmax(dense2.output, axis=1)


def plot(result, path, title="nnfs-ref train"):
    """Save loss and accuracy curves and the learned decision regions to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc, ax_regions) = plt.subplots(1, 3, figsize=(15, 4.5))
    epochs = np.arange(len(result.losses))
    ax_loss.plot(epochs, result.losses, lw=1)
    ax_loss.set(xlabel="epoch", ylabel="loss", title="Loss (softmax + CCE)")
    ax_acc.plot(epochs, result.accuracies, lw=1, color="tab:green")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0, 1))

    X, y = result.X, result.y
    pad = 0.1
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 300)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 300)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(X.dtype)
    regions = predict(result.layers, grid).reshape(gx.shape)
    classes = int(max(y.max() + 1, regions.max() + 1))
    cmap = plt.get_cmap("brg", classes)
    ax_regions.contourf(gx, gy, regions, levels=np.arange(classes + 1) - 0.5, cmap=cmap,
                        alpha=0.3)
    ax_regions.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, s=12, edgecolors="k", linewidths=0.3,
                       vmin=-0.5, vmax=classes - 0.5)
    ax_regions.set(title="Decision regions", xlabel="x1", ylabel="x2", aspect="equal")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
