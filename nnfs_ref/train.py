"""``nnfs-ref train``: the seed's training run (its Cell [31]) and the book's other
tasks, with the manual/ classes.

NumPy only (no JAX); matplotlib is imported only to draw ``--plot``.

Tasks (:data:`TASKS`): ``spiral`` (the seed's), ``binary`` (the book's
logistic regression) and ``sine`` (its regression), each trained with any of
the book's optimizers; options left out take the book's settings for the task.

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


@dataclasses.dataclass(frozen=True)
class Task:
    """One of the book's training problems and the settings the book trains it with."""

    inputs: int             # input width
    hidden_layers: int      # Dense + ReLU pairs before the output layer
    optimizer: str          # the book's optimizer for the task
    optimizer_options: tuple  # its hyper-parameters in the book, as (name, value) pairs
    samples: int            # default --samples
    weight_scale: float     # initial weights: weight_scale * randn
    l2: float               # default L2 strength on the hidden layers' weights and biases
    loss_name: str
    accuracy_name: str


TASKS = {
    # The seed's spiral classification: Dense 2->H, ReLU, Dense H->C, softmax + CCE, SGD.
    "spiral": Task(2, 1, "sgd", (), 100, 0.01, 0.0, "softmax + CCE", "argmax == label"),
    # The book's binary logistic regression (ch. 16) on 2-class spiral data: Dense 2->H
    # (L2 5e-4), ReLU, Dense H->1, sigmoid + binary cross-entropy, Adam.
    "binary": Task(2, 1, "adam", (("decay", 5e-7),), 100, 0.01, 5e-4, "sigmoid + BCE",
                   "(p > 0.5) == label"),
    # The book's regression (ch. 17) on nnfs's sine data: Dense 1->H, ReLU, Dense H->H,
    # ReLU, Dense H->1, linear + mean squared error, Adam; weights 0.1 * randn.
    "sine": Task(1, 2, "adam", (("learning_rate", 0.005), ("decay", 1e-3)), 1000, 0.1, 0.0,
                 "linear + MSE", "|prediction - y| < std(y) / 250"),
}

OPTIMIZERS = {"sgd": manual.Optimizer_SGD, "adagrad": manual.Optimizer_Adagrad,
              "rmsprop": manual.Optimizer_RMSprop, "adam": manual.Optimizer_Adam}

#: Every optimizer hyper-parameter and the optimizers that take it.
HYPERPARAMETERS = {"learning_rate": tuple(OPTIMIZERS), "decay": tuple(OPTIMIZERS),
                   "momentum": ("sgd",), "epsilon": ("adagrad", "rmsprop", "adam"),
                   "rho": ("rmsprop",), "beta_1": ("adam",), "beta_2": ("adam",)}


def _option(name):
    return "--" + name.replace("_", "-")


@dataclasses.dataclass
class TrainConfig:
    """A training run. ``None`` means the book's setting for the task (see :data:`TASKS`)."""

    task: str = "spiral"
    epochs: int = 10001
    optimizer: str = None
    learning_rate: float = None
    decay: float = None
    momentum: float = None
    epsilon: float = None
    rho: float = None
    beta_1: float = None
    beta_2: float = None
    hidden: int = 64
    samples: int = None
    classes: int = None
    l1: float = 0.0
    l2: float = None
    dropout: float = 0.0
    print_every: int = 100
    seed: int = 0
    nnfs_init: bool = True
    quiet: bool = False
    progress: bool = True

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"--task must be one of {', '.join(TASKS)}, got {self.task!r}")
        task = TASKS[self.task]
        if self.optimizer is None:
            self.optimizer = task.optimizer
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}, "
                             f"got {self.optimizer!r}")
        if self.samples is None:
            self.samples = task.samples
        if self.l2 is None:
            self.l2 = task.l2
        if self.classes is not None and self.task != "spiral":
            raise ValueError(f"--classes applies to --task spiral only (task {self.task} has "
                             f"{'2 classes' if self.task == 'binary' else 'no classes'})")
        if self.classes is None:
            self.classes = 3 if self.task == "spiral" else 2

    @property
    def regularized(self):
        return bool(self.l1 or self.l2)

    def optimizer_options(self):
        """The optimizer's keyword arguments: the book's for the task, then those given.

        The task's settings apply only with the task's own optimizer; an option
        the optimizer does not take raises ``ValueError``.
        """
        task = TASKS[self.task]
        options = dict(task.optimizer_options) if self.optimizer == task.optimizer else {}
        for name, takers in HYPERPARAMETERS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if self.optimizer not in takers:
                raise ValueError(f"{_option(name)} applies to --optimizer "
                                 f"{' or '.join(takers)}, not {self.optimizer}")
            options[name] = value
        return options

    def make_optimizer(self):
        """The manual optimizer; ``ValueError`` naming the option that is out of range."""
        try:
            return OPTIMIZERS[self.optimizer](**self.optimizer_options())
        except (TypeError, ValueError) as exc:
            name, _, rest = str(exc).partition(" ")
            raise ValueError(f"{_option(name)} {rest}") from None

    def validate(self):
        """Raise ``ValueError`` naming the first option that makes no sense."""
        checks = [
            (self.epochs >= 0, f"--epochs must be >= 0, got {self.epochs}"),
            (self.hidden >= 1, f"--hidden must be >= 1, got {self.hidden}"),
            (self.samples >= 1, f"--samples must be >= 1, got {self.samples}"),
            (self.classes >= 2, f"--classes must be >= 2, got {self.classes}"),
            (self.print_every >= 1, f"--print-every must be >= 1, got {self.print_every}"),
            (self.learning_rate is None
             or (np.isfinite(self.learning_rate) and self.learning_rate > 0),
             f"--learning-rate must be positive and finite, got {self.learning_rate}"),
            (np.isfinite(self.l1) and self.l1 >= 0, f"--l1 must be >= 0, got {self.l1}"),
            (np.isfinite(self.l2) and self.l2 >= 0, f"--l2 must be >= 0, got {self.l2}"),
            (0 <= self.dropout < 1, f"--dropout must lie in [0, 1), got {self.dropout}"),
            (self.seed >= 0, f"--seed must be >= 0, got {self.seed}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        self.make_optimizer()

    def parameter_shapes(self):
        """``{"dense1_weights": (n_in, H), "dense1_biases": (1, H), ...}`` of the network."""
        task = TASKS[self.task]
        outputs = self.classes if self.task == "spiral" else 1
        widths = [task.inputs] + [self.hidden] * task.hidden_layers + [outputs]
        shapes = {}
        for i, (n_in, n_out) in enumerate(zip(widths, widths[1:]), 1):
            shapes[f"dense{i}_weights"] = (n_in, n_out)
            shapes[f"dense{i}_biases"] = (1, n_out)
        return shapes


class Diverged(RuntimeError):
    """The loss became non-finite."""


@dataclasses.dataclass
class TrainResult:
    config: TrainConfig
    X: np.ndarray
    y: np.ndarray
    layers: list            # Dense, ReLU, ..., Dense
    head: object            # the output activation (fused with the loss for spiral)
    losses: np.ndarray      # (epochs,) data loss (exact, unclipped for spiral) + penalties
    accuracies: np.ndarray  # (epochs,)

    def parameters(self):
        params = {}
        for i, dense in enumerate(dense_layers(self.layers), 1):
            params[f"dense{i}_weights"] = dense.weights
            params[f"dense{i}_biases"] = dense.biases
        return params


def dense_layers(layers):
    """The ``Layer_Dense`` objects of ``layers``, in order (``dense1``, ``dense2``, ...)."""
    return [layer for layer in layers if isinstance(layer, manual.Layer_Dense)]


def load_parameters(path, expected):
    """Read ``--load PATH.npz`` without pickle; check every array is there with its shape.

    ``expected``: ``{name: shape}`` (:meth:`TrainConfig.parameter_shapes`).
    Returns a dict ``name -> ndarray``; raises ``ValueError`` naming what is wrong.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read parameters from {path}: {exc}") from None
    missing = [name for name in expected if name not in arrays]
    if missing:
        raise ValueError(f"{path} lacks the array(s) {', '.join(missing)} "
                         f"(expected {', '.join(expected)})")
    for name, shape in expected.items():
        value = arrays[name]
        if not np.issubdtype(value.dtype, np.floating):
            raise ValueError(f"{path}: {name} must hold floats, got dtype {value.dtype}")
        if value.shape != shape:
            raise ValueError(f"{path}: {name} has shape {value.shape}, expected {shape} "
                             "for this --task, --hidden and --classes")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{path}: {name} holds non-finite values")
    return {name: arrays[name] for name in expected}


def save_parameters(path, result):
    """Write the trained parameters to ``path`` with ``np.savez`` (no pickle).

    The optimizer's state (momentums, caches) is not saved: a run resumed with
    ``--load`` restarts it from zero.
    """
    np.savez(path, **result.parameters())


def make_data(config):
    """``(X, y)`` of the task: spiral labels (N,), binary labels (N, 1), sine targets (N, 1)."""
    from nnfs.datasets import sine_data, spiral_data

    if config.task == "sine":
        return sine_data(samples=config.samples)
    X, y = spiral_data(samples=config.samples, classes=config.classes)
    return (X, y.reshape(-1, 1)) if config.task == "binary" else (X, y)


def make_network(config):
    """``(layers, head, loss)``: Dense/ReLU(/Dropout) layers in order, the output
    activation, the loss.

    With ``config.dropout``, a ``Layer_Dropout`` follows each hidden ReLU (the
    book's chapter 15). For the spiral task ``head`` is the fused softmax + CCE and ``loss`` its
    clipped CCE (the loss the seed prints).
    """
    task = TASKS[config.task]
    shapes = config.parameter_shapes()
    layers = []
    for i in range(1, task.hidden_layers + 2):
        n_in, n_out = shapes[f"dense{i}_weights"]
        hidden = i <= task.hidden_layers
        dense = manual.Layer_Dense(
            n_in, n_out, **({"weight_regularizer_l1": config.l1, "weight_regularizer_l2":
                             config.l2, "bias_regularizer_l1": config.l1,
                             "bias_regularizer_l2": config.l2} if hidden else {}))
        if task.weight_scale != 0.01:  # Layer_Dense draws 0.01 * randn, as the seed does
            dense.weights = dense.weights * (task.weight_scale / 0.01)
        layers += [dense, manual.Activation_ReLU()] if hidden else [dense]
        if hidden and config.dropout:
            layers.append(manual.Layer_Dropout(config.dropout))
    if config.task == "spiral":
        head = manual.Activation_Softmax_Loss_CategoricalCrossentropy()
        return layers, head, head.loss
    if config.task == "binary":
        return layers, manual.Activation_Sigmoid(), manual.Loss_BinaryCrossentropy()
    return layers, manual.Activation_Linear(), manual.Loss_MeanSquaredError()


def accuracy_of(task, output, y, precision=None):
    """The task's accuracy (:attr:`Task.accuracy_name`) of the head's ``output``."""
    if task == "spiral":
        return np.mean(np.argmax(output, axis=1) == y)
    if task == "binary":
        return np.mean((output > 0.5) == y)
    return np.mean(np.abs(output - y) < precision)


def train(config, initial=None, out=sys.stdout):
    """Run the training loop; print its log to ``out``; return a :class:`TrainResult`.

    ``initial``: parameters from :func:`load_parameters` to start from. Call
    ``nnfs.init()`` first to reproduce the seed (the CLI does). Each epoch:
    forward, loss, accuracy, backward, then the optimizer's
    ``pre_update_params`` / ``update_params`` per Dense layer /
    ``post_update_params``; for the spiral task with plain SGD these are the
    seed's operations, in its order.
    """
    X, y = make_data(config)
    layers, head, loss_function = make_network(config)
    denses = dense_layers(layers)
    optimizer = config.make_optimizer()
    if initial is not None:
        for i, dense in enumerate(denses, 1):
            dense.weights = initial[f"dense{i}_weights"].astype(dense.weights.dtype)
            dense.biases = initial[f"dense{i}_biases"].astype(dense.biases.dtype)
    fused = config.task == "spiral"
    precision = np.std(y) / 250 if config.task == "sine" else None
    penalties = manual.Loss()

    losses = np.empty(config.epochs)
    accuracies = np.empty(config.epochs)
    # The seed's epoch loop (Cell [31]); a diverging run is caught by its loss, not warnings.
    with _progress_bar(config) as bar, np.errstate(all="ignore"):
        for epoch in range(config.epochs):
            values = X
            for layer in layers:
                layer.forward(values)
                values = layer.output
            if fused:
                data_loss = head.forward(values, y)
            else:
                head.forward(values)
                data_loss = loss_function.calculate(head.output, y)
            reg_loss = (sum(penalties.regularization_loss(d) for d in denses)
                        if config.regularized else 0.0)
            accuracy = accuracy_of(config.task, head.output, y, precision)
            losses[epoch], accuracies[epoch] = data_loss + reg_loss, accuracy
            if not np.isfinite(losses[epoch]):
                raise Diverged(f"training diverged at epoch {epoch}: the loss is "
                               f"{losses[epoch]} (is --learning-rate "
                               f"{optimizer.learning_rate} too large?)")
            if not config.quiet and not epoch % config.print_every:
                shown = loss_function.calculate(head.output, y) if fused else data_loss
                line = f"epoch: {epoch}, acc: {accuracy:.3f}, loss: {shown + reg_loss:.3f}"
                if config.regularized:
                    line += f" (data_loss: {shown:.3f}, reg_loss: {reg_loss:.3f})"
                if optimizer.decay:
                    line += f", lr: {optimizer.current_learning_rate:.6g}"
                bar.write(line, file=out)
            if fused:
                head.backward(head.output, y)
            else:
                loss_function.backward(head.output, y)
                head.backward(loss_function.dinputs)
            dvalues = head.dinputs
            for layer in reversed(layers):
                layer.backward(dvalues)
                dvalues = layer.dinputs
            optimizer.pre_update_params()
            for dense in denses:
                optimizer.update_params(dense)
            optimizer.post_update_params()
            bar.update()
    return TrainResult(config, X, y, layers, head, losses, accuracies)


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


def predict(result, X):
    """Predictions of the trained network for inputs ``X`` (batch, inputs).

    Spiral: class labels (batch,); binary: 0/1 labels (batch,); sine: values (batch,).
    """
    values = X
    for layer in result.layers:
        if isinstance(layer, manual.Layer_Dropout):
            layer.forward(values, training=False)
        else:
            layer.forward(values)
        values = layer.output
    if result.config.task == "spiral":
        return np.argmax(values, axis=1)
    head = type(result.head)()
    head.forward(values)
    if result.config.task == "binary":
        return (head.output[:, 0] > 0.5).astype(int)
    return head.output[:, 0]


def plot(result, path, title="nnfs-ref train"):
    """Save loss and accuracy curves, and the decision regions or the fitted curve, to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    task = TASKS[result.config.task]
    fig, (ax_loss, ax_acc, ax_fit) = plt.subplots(1, 3, figsize=(15, 4.5))
    epochs = np.arange(len(result.losses))
    ax_loss.plot(epochs, result.losses, lw=1)
    ax_loss.set(xlabel="epoch", ylabel="loss", title=f"Loss ({task.loss_name})")
    ax_acc.plot(epochs, result.accuracies, lw=1, color="tab:green")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title=f"Accuracy ({task.accuracy_name})",
               ylim=(0, 1))
    if result.config.task == "sine":
        ax_fit.plot(result.X[:, 0], result.y[:, 0], lw=3, color="0.8", label="sine data")
        ax_fit.plot(result.X[:, 0], predict(result, result.X), lw=1, label="network")
        ax_fit.set(title="Fit", xlabel="x", ylabel="y")
        ax_fit.legend()
    else:
        _decision_regions(ax_fit, result, plt)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _decision_regions(ax, result, plt):
    X, y = result.X, result.y.ravel()
    pad = 0.1
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 300)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 300)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(X.dtype)
    regions = predict(result, grid).reshape(gx.shape)
    classes = int(max(y.max() + 1, regions.max() + 1))
    cmap = plt.get_cmap("brg", classes)
    ax.contourf(gx, gy, regions, levels=np.arange(classes + 1) - 0.5, cmap=cmap, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, s=12, edgecolors="k", linewidths=0.3,
               vmin=-0.5, vmax=classes - 0.5)
    ax.set(title="Decision regions", xlabel="x1", ylabel="x2", aspect="equal")
