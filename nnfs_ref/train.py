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
unclipped; docs/errata.md, 4) differs from it only when a true-class
probability leaves the clip range; it is the one recorded for ``--plot`` and
watched for divergence.
"""

import dataclasses
import os
import sys

import numpy as np
from threadpoolctl import threadpool_limits

import manual


class ConfigError(ValueError):
    """A training setting that makes no sense, worded in the domain.

    ``field`` is the :class:`TrainConfig` field at fault and ``reason`` the rest
    of the message; ``{name}`` in ``reason`` stands for another field, so that a
    front end can name fields its own way (the CLI as ``--flags``).
    """

    def __init__(self, field, reason):
        self.field, self.reason = field, reason
        super().__init__(self.worded(lambda name: name))

    def worded(self, spell):
        """The message with every field spelled by ``spell(name)``."""
        fields = {f.name: spell(f.name) for f in dataclasses.fields(TrainConfig)}
        return f"{spell(self.field)} {self.reason.format(**fields)}"


class Task:
    """One of the book's training problems: its data, network, head, loss, accuracy,
    predictions and plot, and the settings the book trains it with.

    A task is one object: adding one is writing a subclass and listing it in
    :data:`TASKS`.
    """

    name = ""
    inputs = 2              # input width
    hidden_layers = 1       # Dense + ReLU pairs before the output layer
    optimizer = "adam"      # the book's optimizer for the task
    optimizer_options = ()  # its hyper-parameters in the book, as (name, value) pairs
    samples = 100           # default number of samples (per class for the spirals)
    weight_scale = 0.01     # initial weights: weight_scale * randn
    l2 = 0.0                # default L2 strength on the hidden layers' weights and biases
    loss_name = ""
    accuracy_name = ""
    #: Number of classes when none is given (None: a task without classes).
    default_classes = None
    #: Whether the number of classes may be chosen.
    classes_option = False

    def outputs(self, config):
        return 1

    def data(self, config):
        """``(X, y)``."""
        raise NotImplementedError

    def head_and_loss(self):
        """``(head, loss)``: the output activation and the loss it feeds."""
        raise NotImplementedError

    def forward_loss(self, head, loss, values, y):
        """The data loss of the last layer's ``values``; sets ``head.output``."""
        head.forward(values)
        return loss.calculate(head.output, y)

    def shown_loss(self, head, loss, data_loss, y):
        """The loss the log prints (the book's)."""
        return data_loss

    def backward(self, head, loss, y):
        """``dvalues`` for the last layer."""
        loss.backward(head.output, y)
        head.backward(loss.dinputs)
        return head.dinputs

    def accuracy(self, output, y):
        raise NotImplementedError

    def prediction_head(self):
        """A fresh output activation for predictions (no loss)."""
        return self.head_and_loss()[0]

    def predict(self, output):
        """Predictions, shape (batch,), from the head's ``output``."""
        raise NotImplementedError

    def plot_fit(self, ax, result, plt):
        """The third panel of ``--plot``: the decision regions of a classification."""
        _decision_regions(ax, result, plt)


class Spiral(Task):
    """The seed's spiral classification: Dense 2->H, ReLU, Dense H->C, softmax + CCE, SGD."""

    name, optimizer, loss_name, accuracy_name = "spiral", "sgd", "softmax + CCE", \
        "argmax == label"
    default_classes, classes_option = 3, True

    def outputs(self, config):
        return config.classes

    def data(self, config):
        from nnfs.datasets import spiral_data

        return spiral_data(samples=config.samples, classes=config.classes)

    def head_and_loss(self):
        head = manual.Activation_Softmax_Loss_CategoricalCrossentropy()
        return head, head.loss  # the fused layer, and the clipped CCE the seed prints

    def forward_loss(self, head, loss, values, y):
        return head.forward(values, y)  # exact, unclipped (docs/errata.md, 4)

    def shown_loss(self, head, loss, data_loss, y):
        return loss.calculate(head.output, y)  # the seed's clipped CCE

    def backward(self, head, loss, y):
        head.backward(head.output, y)
        return head.dinputs

    def accuracy(self, output, y):
        return np.mean(np.argmax(output, axis=1) == y)

    def prediction_head(self):
        return manual.Activation_Softmax()

    def predict(self, output):
        return np.argmax(output, axis=1)


class Binary(Task):
    """The book's logistic regression (ch. 16) on 2-class spiral data: Dense 2->H (L2 5e-4),
    ReLU, Dense H->1, sigmoid + binary cross-entropy, Adam with decay 5e-7."""

    name, loss_name, accuracy_name = "binary", "sigmoid + BCE", "(p > 0.5) == label"
    optimizer_options, l2, default_classes = (("decay", 5e-7),), 5e-4, 2

    def data(self, config):
        from nnfs.datasets import spiral_data

        X, y = spiral_data(samples=config.samples, classes=2)
        return X, y.reshape(-1, 1)

    def head_and_loss(self):
        return manual.Activation_Sigmoid(), manual.Loss_BinaryCrossentropy()

    def accuracy(self, output, y):
        return np.mean((output > 0.5) == y)

    def predict(self, output):
        return (output[:, 0] > 0.5).astype(int)


class Sine(Task):
    """The book's regression (ch. 17) on nnfs's sine data: Dense 1->H, ReLU, Dense H->H, ReLU,
    Dense H->1, linear + mean squared error, Adam (0.005, decay 1e-3); weights 0.1 * randn."""

    name, loss_name, accuracy_name = "sine", "linear + MSE", "|prediction - y| < std(y) / 250"
    inputs, hidden_layers, samples, weight_scale = 1, 2, 1000, 0.1
    optimizer_options = (("learning_rate", 0.005), ("decay", 1e-3))

    def data(self, config):
        from nnfs.datasets import sine_data

        return sine_data(samples=config.samples)

    def head_and_loss(self):
        return manual.Activation_Linear(), manual.Loss_MeanSquaredError()

    def accuracy(self, output, y):
        return np.mean(np.abs(output - y) < np.std(y) / 250)

    def predict(self, output):
        return output[:, 0]

    def plot_fit(self, ax, result, plt):
        ax.plot(result.X[:, 0], result.y[:, 0], lw=3, color="0.8", label="sine data")
        ax.plot(result.X[:, 0], predict(result, result.X), lw=1, label="network")
        ax.set(title="Fit", xlabel="x", ylabel="y")
        ax.legend()


TASKS = {task.name: task for task in (Spiral(), Binary(), Sine())}

OPTIMIZERS = {"sgd": manual.Optimizer_SGD, "adagrad": manual.Optimizer_Adagrad,
              "rmsprop": manual.Optimizer_RMSprop, "adam": manual.Optimizer_Adam}

#: Every optimizer hyper-parameter and the optimizers that take it.
HYPERPARAMETERS = {"learning_rate": tuple(OPTIMIZERS), "decay": tuple(OPTIMIZERS),
                   "momentum": ("sgd",), "epsilon": ("adagrad", "rmsprop", "adam"),
                   "rho": ("rmsprop",), "beta_1": ("adam",), "beta_2": ("adam",)}


@dataclasses.dataclass
class TrainConfig:
    """A training run. ``None`` means the book's setting for the task (see :data:`TASKS`).

    Settings that make no sense raise :class:`ConfigError` naming the field.
    """

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
    blas_threads: int = 1

    def __post_init__(self):
        if self.task not in TASKS:
            raise ConfigError("task", f"must be one of {', '.join(TASKS)}, got {self.task!r}")
        task = self.spec
        if self.optimizer is None:
            self.optimizer = task.optimizer
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError("optimizer", f"must be one of {', '.join(OPTIMIZERS)}, "
                                           f"got {self.optimizer!r}")
        if self.samples is None:
            self.samples = task.samples
        if self.l2 is None:
            self.l2 = task.l2
        if self.classes is not None and not task.classes_option:
            has = f"{task.default_classes} classes" if task.default_classes else "no classes"
            raise ConfigError("classes", f"applies to {{task}} spiral only (task {self.task} "
                                         f"has {has})")
        if self.classes is None:
            self.classes = task.default_classes or 2

    @property
    def spec(self):
        """The :class:`Task` object of ``task``."""
        return TASKS[self.task]

    @property
    def regularized(self):
        return bool(self.l1 or self.l2)

    def optimizer_options(self):
        """The optimizer's keyword arguments: the book's for the task, then those given.

        The task's settings apply only with the task's own optimizer; an option
        the optimizer does not take raises :class:`ConfigError`.
        """
        task = self.spec
        options = dict(task.optimizer_options) if self.optimizer == task.optimizer else {}
        for name, takers in HYPERPARAMETERS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if self.optimizer not in takers:
                raise ConfigError(name, f"applies to {{optimizer}} {' or '.join(takers)}, "
                                        f"not {self.optimizer}")
            options[name] = value
        return options

    def make_optimizer(self):
        """The manual optimizer; :class:`ConfigError` naming the option out of range."""
        try:
            return OPTIMIZERS[self.optimizer](**self.optimizer_options())
        except (TypeError, ValueError) as exc:
            if not hasattr(exc, "parameter"):
                raise
            raise ConfigError(exc.parameter, exc.reason) from None

    def validate(self):
        """Raise :class:`ConfigError` naming the first setting that makes no sense."""
        checks = [
            ("epochs", self.epochs >= 1, f"must be >= 1, got {self.epochs}"),
            ("hidden", self.hidden >= 1, f"must be >= 1, got {self.hidden}"),
            ("samples", self.samples >= 1, f"must be >= 1, got {self.samples}"),
            ("classes", self.classes >= 2, f"must be >= 2, got {self.classes}"),
            ("print_every", self.print_every >= 1, f"must be >= 1, got {self.print_every}"),
            ("learning_rate", self.learning_rate is None
             or (np.isfinite(self.learning_rate) and self.learning_rate > 0),
             f"must be positive and finite, got {self.learning_rate}"),
            ("l1", np.isfinite(self.l1) and self.l1 >= 0, f"must be >= 0, got {self.l1}"),
            ("l2", np.isfinite(self.l2) and self.l2 >= 0, f"must be >= 0, got {self.l2}"),
            ("dropout", 0 <= self.dropout < 1, f"must lie in [0, 1), got {self.dropout}"),
            ("seed", self.seed >= 0, f"must be >= 0, got {self.seed}"),
            ("blas_threads", self.blas_threads >= 1, f"must be >= 1, got {self.blas_threads}"),
        ]
        for field, ok, reason in checks:
            if not ok:
                raise ConfigError(field, reason)
        self.make_optimizer()
        needed, available = self.memory_estimate(), available_memory()
        if available is not None and needed > available:
            field = "hidden" if self.hidden >= self.samples else "samples"
            raise ConfigError(field, f"{getattr(self, field)} needs about {needed / 2**30:.1f} "
                                     f"GiB of memory, more than the "
                                     f"{available / 2**30:.1f} GiB available")

    def memory_estimate(self):
        """Bytes the run needs, roughly: per Dense layer its weights four times (with their
        gradient and two optimizer states) and its (samples, width) arrays six times
        (inputs, outputs and gradients of the layer and its activation), in float64."""
        shapes = self.parameter_shapes().values()
        parameters = sum(np.prod(shape, dtype=float) for shape in shapes)
        widths = sum(shape[1] for shape in shapes if shape[0] == 1)  # from the biases
        return 8 * (4 * parameters + 6 * float(self.samples) * widths)

    def parameter_shapes(self):
        """``{"dense1_weights": (n_in, H), "dense1_biases": (1, H), ...}`` of the network."""
        task = self.spec
        widths = [task.inputs] + [self.hidden] * task.hidden_layers + [task.outputs(self)]
        shapes = {}
        for i, (n_in, n_out) in enumerate(zip(widths, widths[1:]), 1):
            shapes[f"dense{i}_weights"] = (n_in, n_out)
            shapes[f"dense{i}_biases"] = (1, n_out)
        return shapes


def available_memory():
    """Bytes of memory available now (Linux's MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class Diverged(RuntimeError):
    """The loss became non-finite; ``learning_rate`` is the optimizer's initial rate."""

    def __init__(self, message, learning_rate):
        super().__init__(message)
        self.learning_rate = learning_rate


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


#: The first bytes of an .npz archive (a zip file) and of a single .npy array.
ZIP_MAGIC, NPY_MAGIC = b"PK\x03\x04", b"\x93NUMPY"


def _read_archive(path):
    """The arrays of the .npz archive ``path``; ``ValueError`` saying in one line what is
    wrong with a missing, empty, damaged or foreign file. Nothing is ever unpickled."""
    import zipfile

    if not os.path.isfile(path):
        hint = f" (did you mean {path}.npz?)" if os.path.isfile(path + ".npz") else ""
        raise ValueError(f"{path}: no such file{hint}")
    with open(path, "rb") as fh:
        start = fh.read(len(NPY_MAGIC))
    if not start:
        raise ValueError(f"{path} is empty, not an .npz archive written by --save")
    if start.startswith(NPY_MAGIC):
        raise ValueError(f"{path} is a single .npy array, not an .npz archive of the named "
                         "arrays --save writes")
    if not start.startswith(ZIP_MAGIC):
        raise ValueError(f"{path} is not an .npz archive written by --save (it does not "
                         "start as a zip file does)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ValueError(f"{path} is a damaged .npz archive (truncated?): {exc}") from None
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ValueError(f"{path} holds Python objects, not arrays of numbers; "
                             "parameters are read as numbers only") from None
        raise ValueError(f"{path} is a damaged .npz archive: {exc}") from None


def load_parameters(path, expected):
    """Read ``--load PATH.npz`` without pickle; check every array is there with its shape.

    ``expected``: ``{name: shape}`` (:meth:`TrainConfig.parameter_shapes`).
    Returns a dict ``name -> ndarray``; raises ``ValueError`` naming what is wrong.
    """
    arrays = _read_archive(path)
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


def make_network(config):
    """``(layers, head, loss)``: Dense/ReLU(/Dropout) layers in order, the task's output
    activation and its loss.

    With ``config.dropout``, a ``Layer_Dropout`` follows each hidden ReLU (the
    book's chapter 15).
    """
    task = config.spec
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
    return (layers, *task.head_and_loss())


def train(config, initial=None, out=sys.stdout):
    """Run the training loop; print its log to ``out``; return a :class:`TrainResult`.

    ``initial``: parameters from :func:`load_parameters` to start from. Call
    ``nnfs.init()`` first to reproduce the seed (the CLI does). Each epoch:
    forward, loss, accuracy, backward, then the optimizer's
    ``pre_update_params`` / ``update_params`` per Dense layer /
    ``post_update_params``; for the spiral task with plain SGD these are the
    seed's operations, in its order.
    """
    task = config.spec
    X, y = task.data(config)
    layers, head, loss_function = make_network(config)
    denses = dense_layers(layers)
    optimizer = config.make_optimizer()
    if initial is not None:
        for i, dense in enumerate(denses, 1):
            dense.weights = initial[f"dense{i}_weights"].astype(dense.weights.dtype)
            dense.biases = initial[f"dense{i}_biases"].astype(dense.biases.dtype)
    penalties = manual.Loss()

    losses = np.empty(config.epochs)
    accuracies = np.empty(config.epochs)
    # The seed's epoch loop (Cell [31]); a diverging run is caught by its loss, not warnings.
    # One BLAS thread by default: on these small matrices a second one mostly waits.
    with _progress_bar(config) as bar, np.errstate(all="ignore"), \
            threadpool_limits(config.blas_threads, user_api="blas"):
        for epoch in range(config.epochs):
            values = X
            for layer in layers:
                layer.forward(values)
                values = layer.output
            data_loss = task.forward_loss(head, loss_function, values, y)
            reg_loss = (sum(penalties.regularization_loss(d) for d in denses)
                        if config.regularized else 0.0)
            accuracy = task.accuracy(head.output, y)
            losses[epoch], accuracies[epoch] = data_loss + reg_loss, accuracy
            if not np.isfinite(losses[epoch]):
                raise Diverged(f"training diverged at epoch {epoch}: the loss is "
                               f"{losses[epoch]}", optimizer.learning_rate)
            if not config.quiet and not epoch % config.print_every:
                shown = task.shown_loss(head, loss_function, data_loss, y)
                line = f"epoch: {epoch}, acc: {accuracy:.3f}, loss: {shown + reg_loss:.3f}"
                if config.regularized:
                    line += f" (data_loss: {shown:.3f}, reg_loss: {reg_loss:.3f})"
                if optimizer.decay:
                    line += f", lr: {optimizer.current_learning_rate:.6g}"
                bar.write(line, file=out)
            dvalues = task.backward(head, loss_function, y)
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
    """Predictions of the trained network for inputs ``X`` (batch, inputs), dropout off.

    Spiral: class labels (batch,); binary: 0/1 labels (batch,); sine: values (batch,).
    """
    values = X
    for layer in result.layers:
        if isinstance(layer, manual.Layer_Dropout):
            layer.forward(values, training=False)
        else:
            layer.forward(values)
        values = layer.output
    head = result.config.spec.prediction_head()
    head.forward(values)
    return result.config.spec.predict(head.output)


def plot(result, path, title="nnfs-ref train"):
    """Save loss and accuracy curves, and the decision regions or the fitted curve, to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    task = result.config.spec
    fig, (ax_loss, ax_acc, ax_fit) = plt.subplots(1, 3, figsize=(15, 4.5))
    epochs = np.arange(len(result.losses))
    ax_loss.plot(epochs, result.losses, lw=1)
    ax_loss.set(xlabel="epoch", ylabel="loss", title=f"Loss ({task.loss_name})")
    ax_acc.plot(epochs, result.accuracies, lw=1, color="tab:green")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title=f"Accuracy ({task.accuracy_name})",
               ylim=(0, 1))
    task.plot_fit(ax_fit, result, plt)
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
