"""``nnfs-ref verify``: every manual class against JAX autodiff on random cases.

The arrays come from :mod:`reference.cases` (the builders the property tests
use too): sizes from its pools (a batch of 1, a width of 1, equal sizes, a
batch equal to a width, and up to 64 x 32), random weights, random non-zero
biases and a random upstream gradient (never all ones), plus the awkward
points: inputs exactly 0 at the ReLU kink, predictions inside and on the bounds
of the clip, logits up to |1e4|, sparse and one-hot targets, and float32. The
project's autograd engine (:mod:`manual.engine`) runs the expressions of
:mod:`reference.engine`.

The registry is declarative: each case is a function decorated with
``@case("Title")``, which names the class it checks once. A run's rows are
:class:`Row` objects until they are printed.
"""

import contextlib
import dataclasses
import os
import tempfile

import numpy as np

import manual
from manual import engine as manual_engine
from nnfs_ref.check import check_loss
from nnfs_ref.check.compare import GradientCheck, compare, unchanged_checks
from nnfs_ref.check.twin import value_and_grad_of, vjp_of
from reference import cases as C
from reference import engine as ENGINE
from reference import functions as F
from reference import optimizers as O
from reference.network import SeedNetwork
from reference.runtime import process_pool, require_x64
from reference.vjp import (
    VERIFY,
    check_vjp,
    elementwise_vjp_of,
    fused_scale,
    logits_scale,
    network_scales,
    saturation_scales,
)


@dataclasses.dataclass(frozen=True)
class Case:
    """One kind of random case: the class it checks and how to check one draw of it."""

    title: str
    check: object  # check(rng, settings) -> list of GradientCheck


#: Every case, in the order of the table.
CASES = []


def case(title):
    """Register the decorated ``check(rng, settings)`` under ``title``."""
    def register(check):
        CASES.append(Case(title, check))
        return check
    return register


def _classes(rng):
    return C.draw(rng, C.CLASS_SIZES)


def _outputs(rng):
    return C.draw(rng, C.OUTPUT_SIZES)


def _dense_checks(rng, settings, regularized):
    """A Dense layer's rows against the VJP of :func:`reference.functions.dense_and_penalty`
    (one program per shape for both cases): with random L1/L2 strengths and weights and
    biases exactly 0 in places (L1's kink), or built without regularizers (strengths 0)."""
    batch, n_in, n_out = C.draw(rng, C.LAYER_SIZES)
    if regularized:
        strengths = rng.choice([0.0, 1e-3, 0.5], size=4)
        inputs, weights, biases, dvalues = C.dense(rng, batch, n_in, n_out, zeros=0.0)
        weights = C.with_zeros(rng, weights, 0.2)
        biases = C.with_zeros(rng, biases, 0.2)
        layer = manual.Layer_Dense(n_in, n_out, *(float(s) for s in strengths))
    else:
        strengths = np.zeros(4)
        inputs, weights, biases, dvalues = C.dense(rng, batch, n_in, n_out)
        layer = manual.Layer_Dense(n_in, n_out)
    layer.weights, layer.biases = weights.copy(), biases.copy()
    given = {"inputs": inputs.copy(), "dvalues": dvalues.copy()}
    layer.forward(inputs)
    layer.backward(dvalues)
    untouched = unchanged_checks(given, {"inputs": inputs, "dvalues": dvalues})
    params = {"weights": weights, "biases": biases, "strengths": strengths}
    (output, penalty), (dparams, dinputs) = vjp_of(F.dense_and_penalty)(
        params, given["inputs"], (given["dvalues"], np.float64(1.0)))
    checks = [settings.compare("output", layer.output, output),
              settings.compare("dweights", layer.dweights, dparams["weights"]),
              settings.compare("dbiases", layer.dbiases, dparams["biases"]),
              settings.compare("dinputs", layer.dinputs, dinputs)]
    if regularized:
        checks.append(settings.compare("regularization_loss",
                                       manual.Loss().regularization_loss(layer),
                              penalty))
    return checks + untouched


@case("Layer_Dense")
def _dense(rng, settings):
    return _dense_checks(rng, settings, regularized=False)


@case("Layer_Dense (L1/L2)")
def _dense_regularized(rng, settings):
    return _dense_checks(rng, settings, regularized=True)


#: The elementwise layers' references run at this many entries, every shape of the pool
#: padded to it: one compiled program each (:func:`reference.vjp.elementwise_vjp_of`).
ELEMENTWISE_LENGTH = max(batch * width for batch, width, _ in C.LAYER_SIZES)


def _elementwise(fn):
    return elementwise_vjp_of(fn, ELEMENTWISE_LENGTH)


@case("Layer_Dropout (mask fixed)")
def _dropout(rng, settings):
    batch, width, _ = C.draw(rng, C.LAYER_SIZES)
    inputs, dvalues = C.activation(rng, batch, width, zeros=0.0)
    layer = manual.Layer_Dropout(float(rng.choice([0.1, 0.5, 0.9])), rng=rng)
    layer.forward(inputs)
    layer.backward(dvalues)
    output, (_, dinputs) = _elementwise(F.dropout_layer)({"mask": layer.mask}, inputs, dvalues)
    return [settings.compare("output", layer.output, output),
            settings.compare("dinputs", layer.dinputs, dinputs)]


@case("Activation_ReLU")
def _relu(rng, settings):
    batch, width, _ = C.draw(rng, C.LAYER_SIZES)
    inputs, dvalues = C.activation(rng, batch, width)
    return check_vjp(manual.Activation_ReLU(), F.relu_layer, {}, inputs, dvalues, settings,
                     oracle=_elementwise(F.relu_layer)).checks


@case("Activation_Softmax")
def _softmax(rng, settings):
    batch, classes = _classes(rng)
    inputs = C.logits(rng, batch, classes)
    dvalues = rng.normal(size=(batch, classes))
    return check_vjp(manual.Activation_Softmax(), F.softmax_layer, {}, inputs, dvalues, settings,
                     saturation_scales(dvalues)).checks


@case("Activation_Sigmoid")
def _sigmoid(rng, settings):
    batch, width, _ = C.draw(rng, C.LAYER_SIZES)
    inputs, dvalues = C.activation(rng, batch, width, scale=rng.choice([1.0, 10.0, 1e3]))
    return check_vjp(manual.Activation_Sigmoid(), F.sigmoid_layer, {}, inputs, dvalues, settings,
                     saturation_scales(dvalues),
                     oracle=_elementwise(F.sigmoid_layer)).checks


@case("Activation_Linear")
def _linear(rng, settings):
    batch, width, _ = C.draw(rng, C.LAYER_SIZES)
    inputs, dvalues = C.activation(rng, batch, width, zeros=0.0)
    return check_vjp(manual.Activation_Linear(), F.linear_layer, {}, inputs, dvalues, settings,
                     oracle=_elementwise(F.linear_layer)).checks


def _loss_checks(loss, fn, y_pred, y_true, settings):
    """A loss's mean value, ``calculate`` and ``backward`` against
    ``jax.value_and_grad(fn)``."""
    checks = check_loss(loss, y_pred, y_true, fn=fn, rtol=settings.rtol,
                        scale_tol=settings.scale_tol).checks
    expected = value_and_grad_of(fn)(np.asarray(y_pred, dtype=np.float64), y_true)[0]
    return checks[:1] + [_calculate(loss, y_pred, y_true, expected, settings)] \
        + checks[1:]


def _calculate(loss, y_pred, y_true, expected, settings):
    """The row of ``Loss.calculate``: the mean of the sample losses, as training reports it."""
    return settings.compare("calculate", loss.calculate(y_pred.copy(), np.copy(y_true)),
                            expected)


# The losses of classes take sparse labels or one-hot rows (half the time each). Their
# references take one-hot rows, built here in NumPy from the labels: the two forms are
# the same loss, and one reference compiles once per shape instead of twice.


@case("Loss_CategoricalCrossentropy")
def _cce(rng, settings):
    batch, classes = _classes(rng)
    y = C.labels(rng, batch, classes)
    y_pred = C.clipped_predictions(rng, batch, classes, y)
    targets, _ = C.target_form(rng, y, classes)
    cce = manual.Loss_CategoricalCrossentropy()
    given = {"y_pred": y_pred.copy(), "y_true": targets.copy()}
    value = np.mean(cce.forward(y_pred, targets))
    cce.backward(y_pred, targets)
    untouched = unchanged_checks(given, {"y_pred": y_pred, "y_true": targets})
    expected_value, expected_grad = value_and_grad_of(F.cce_loss_one_hot)(
        given["y_pred"], C.one_hot(y, classes))
    return [settings.compare("loss", value, expected_value),
            _calculate(cce, given["y_pred"], given["y_true"], expected_value, settings),
            settings.compare("dinputs", cce.dinputs, expected_grad)] + untouched


@case("Activation_Softmax_Loss_CategoricalCrossentropy")
def _softmax_cce(rng, settings):
    batch, classes = _classes(rng)
    y = C.labels(rng, batch, classes)
    targets, _ = C.target_form(rng, y, classes)
    logits = C.logits(rng, batch, classes)
    fused = manual.Activation_Softmax_Loss_CategoricalCrossentropy()
    given = {"inputs": logits.copy(), "labels": targets.copy()}
    value = fused.forward(logits, targets)
    given["dvalues"] = fused.output.copy()
    fused.backward(fused.output, targets)
    untouched = unchanged_checks(given, {"inputs": logits, "labels": targets,
                                         "dvalues": fused.output})
    (expected_value, expected_output), expected_grad = value_and_grad_of(
        F.softmax_cce_loss_one_hot_and_softmax, has_aux=True)(given["inputs"],
                                                             C.one_hot(y, classes))
    return [
        settings.compare("output", fused.output, expected_output),
        settings.compare("loss", value, expected_value, logits_scale(logits)),
        settings.compare("dinputs", fused.dinputs, expected_grad, fused_scale(logits)),
    ] + untouched


@case("Loss_BinaryCrossentropy")
def _bce(rng, settings):
    y_pred, y_true = C.binary(rng, *_outputs(rng), hard=rng.random() < 0.5)
    return _loss_checks(manual.Loss_BinaryCrossentropy(), F.bce_loss, y_pred, y_true,
                        settings)


@case("Loss_MeanSquaredError")
def _mse(rng, settings):
    return _loss_checks(manual.Loss_MeanSquaredError(), F.mse_loss,
                        *C.regression(rng, *_outputs(rng)), settings)


@case("Loss_MeanAbsoluteError")
def _mae(rng, settings):
    return _loss_checks(manual.Loss_MeanAbsoluteError(), F.mae_loss,
                        *C.regression(rng, *_outputs(rng)), settings)


@case("Network 2-64-3")
def _network(rng, settings):
    params, inputs, labels = C.network(rng, C.draw(rng, C.NETWORK_BATCHES))
    net = SeedNetwork.build(manual, params=params)
    loss = net.forward(inputs, labels)
    net.backward(labels)
    expected_loss, grads = value_and_grad_of(F.network_loss)(params, inputs, labels)
    checks = [settings.compare("loss", loss, expected_loss, logits_scale(net.dense2.output))]
    scales = network_scales(params, inputs)
    for key, actual in net.gradients().items():
        checks += [settings.compare(f"{key}.d{name}", actual[name], grads[key][name],
                                    scales[key][name]) for name in ("weights", "biases")]
    return checks


#: float32 results agree with the float64 run of the same values to this (float32's
#: epsilon is 1.2e-7; a dot product of 32 terms rounds 32 times).
F32_RTOL, F32_SCALE_TOL = 1e-5, 1e-5


def _float32_classes(rng):
    """``{title: (make, inputs, targets)}``: every layer and loss, with inputs of one draw."""
    batch, n_in, n_out = C.draw(rng, C.LAYER_SIZES)
    _, weights, biases, dvalues = C.dense(rng, batch, n_in, n_out)
    inputs, _ = C.activation(rng, batch, n_in)
    classes = C.draw(rng, C.CLASS_SIZES)
    y = C.labels(rng, *classes)
    seed = int(rng.integers(2**32))

    def dense(dtype):
        layer = manual.Layer_Dense(n_in, n_out, 1e-3, 1e-3, 1e-3, 1e-3)
        layer.weights, layer.biases = weights.astype(dtype), biases.astype(dtype)
        return layer

    outputs = C.regression(rng, *C.draw(rng, C.OUTPUT_SIZES))
    # no predictions at the clip bounds: float32 rounds 1 - 1e-7 to 1 - 1.19e-7, where
    # BCE's log(1 - p) is -15.9 instead of -16.1 (docs/errata.md)
    binary = C.binary(rng, *outputs[0].shape, clipped=0.0)
    return {
        "Layer_Dense": (dense, inputs, dvalues),
        "Layer_Dropout": (lambda dtype: manual.Layer_Dropout(0.5, rng=seed), inputs, None),
        "Activation_ReLU": (lambda dtype: manual.Activation_ReLU(), inputs, None),
        "Activation_Softmax": (lambda dtype: manual.Activation_Softmax(),
                               C.logits(rng, *classes), None),
        "Activation_Sigmoid": (lambda dtype: manual.Activation_Sigmoid(), inputs, None),
        "Activation_Linear": (lambda dtype: manual.Activation_Linear(), inputs, None),
        "Loss_CategoricalCrossentropy": (lambda dtype: manual.Loss_CategoricalCrossentropy(),
                                         C.clipped_predictions(rng, *classes, y), y),
        "Activation_Softmax_Loss_CategoricalCrossentropy": (
            lambda dtype: manual.Activation_Softmax_Loss_CategoricalCrossentropy(),
            C.logits(rng, *classes, row_scales=(1.0, 10.0)), y),
        "Loss_BinaryCrossentropy": (lambda dtype: manual.Loss_BinaryCrossentropy(), *binary),
        "Loss_MeanSquaredError": (lambda dtype: manual.Loss_MeanSquaredError(), *outputs),
        "Loss_MeanAbsoluteError": (lambda dtype: manual.Loss_MeanAbsoluteError(), *outputs),
    }


def _results(make, inputs, targets, dtype, rng_seed):
    """``{name: array}`` of one class run on ``inputs`` cast to ``dtype``."""
    obj = make(dtype)
    x = inputs.astype(dtype)
    if isinstance(obj, manual.Loss):
        t = targets if targets.dtype.kind in "iu" else targets.astype(dtype)
        loss = obj.calculate(x, t)
        obj.backward(x, t)
        return {"loss": np.asarray(loss), "dinputs": obj.dinputs}
    if isinstance(obj, manual.Activation_Softmax_Loss_CategoricalCrossentropy):
        loss = obj.forward(x, targets)
        obj.backward(obj.output, targets)
        return {"loss": np.asarray(loss), "output": obj.output, "dinputs": obj.dinputs}
    obj.forward(x)
    upstream = np.random.default_rng(rng_seed).normal(size=obj.output.shape)
    obj.backward(upstream.astype(np.float32).astype(dtype))
    results = {"output": obj.output, "dinputs": obj.dinputs}
    for name in ("weights", "biases"):
        if hasattr(obj, "d" + name):
            results["d" + name] = getattr(obj, "d" + name)
    return results


@case("float32 in, float32 out")
def _float32(rng, settings):
    """Every class given float32 arrays gives float32 results, equal to its float64 results
    on the same values to float32 precision (the float64 run is the one checked against
    JAX above). These rows have their own tolerances (:data:`F32_RTOL`,
    :data:`F32_SCALE_TOL`); ``rtol`` and ``scale_tol`` are the float64 rows'."""
    checks = []
    seed = int(rng.integers(2**32))

    def representable(x):  # the values float32 can hold, in float64
        return x if x.dtype.kind in "iu" else x.astype(np.float32).astype(np.float64)

    for title, (make, inputs, targets) in _float32_classes(rng).items():
        inputs = representable(inputs)
        targets = None if targets is None else representable(targets)
        single = _results(make, inputs, targets, np.float32, seed)
        double = _results(make, inputs, targets, np.float64, seed)
        for name, value in single.items():
            # rounding is relative to the terms the results are made of, of size about 1
            # (standard normal inputs, weights and upstream gradients) or larger
            scale = max(np.abs(double[name]).max(), 1.0)
            check = compare(f"{title}.{name}", value.astype(np.float64), double[name],
                            F32_RTOL, F32_SCALE_TOL, scale)
            if value.dtype != np.float32:
                check = dataclasses.replace(check, name=f"{check.name} is {value.dtype}",
                                            ok=False)
            checks.append(check)
    return checks


def _optimizer_case(kind, title, **fixed):
    """Register a case running the manual optimizer ``kind`` for STEPS steps on the book
    network's two Dense layers, hyper-parameters random but for ``fixed``; compared with
    the book's rule in JAX and, where the rules coincide, with optax
    (:func:`reference.optimizers.run_oracles`)."""
    cls = getattr(manual, O.CLASSES[kind])

    @case(title)
    def check(rng, settings):
        hyper = {**O.random_hyperparameters(kind, rng), **fixed}
        params, grads = O.random_problem(rng)
        actual = O.run_manual(cls(**hyper), params, grads)
        oracles = O.run_oracles(kind, hyper, params, grads)
        compared = ("book", "optax") if O.optax_coincides(kind, hyper) else ("book",)
        return [settings.compare(f"{layer}.{name} vs {oracle}", actual[layer][name],
                        oracles[oracle][layer][name])
                for oracle in compared for layer in params for name in ("weights", "biases")]
    return check


_optimizer_case("sgd", "Optimizer_SGD", momentum=0.0)
_optimizer_case("sgd", "Optimizer_SGD (momentum)")
_optimizer_case("adagrad", "Optimizer_Adagrad")
_optimizer_case("rmsprop", "Optimizer_RMSprop")
_optimizer_case("adam", "Optimizer_Adam")


@case("Value")
def _value(rng, settings):
    return ENGINE.checks(manual_engine.Value, ENGINE.SCALAR, rng, settings)


@case("Tensor")
def _tensor(rng, settings):
    return ENGINE.checks(manual_engine.Tensor, ENGINE.TENSOR, rng, settings)


@dataclasses.dataclass
class Row:
    """The worst of a run's examples for one (class, gradient), and how many failed."""

    cls: str
    check: GradientCheck
    failed: int = 0
    message: str = None  # set when the case raised

    @property
    def name(self):
        return self.check.name

    @property
    def ok(self):
        return self.failed == 0

    def as_dict(self):
        """The row as :func:`nnfs_ref.check.report.format_table` and ``--json`` take it."""
        record = dict(cls=self.cls, **self.check.as_dict(), failed=self.failed)
        record["ok"] = self.ok
        if self.message is not None:
            record["message"] = self.message
        return record


def run_case(case, rng, settings=VERIFY):
    """The rows of one draw of ``case``; a case that raises is one failing row naming it."""
    try:
        return [Row(case.title, check, int(not check.ok))
                for check in case.check(rng, settings)]
    except Exception as exc:  # a broken backward pass may raise anything: report it
        check = GradientCheck.missing(f"raised {type(exc).__name__}", ())
        return [Row(case.title, check, 1, str(exc))]


def _worse(a, b):
    """The row to show: a failure before a pass, then the larger violation."""
    def key(row):
        return (not row.check.ok, row.check.ratio)
    return a if key(a) >= key(b) else b


def run_cases(indices, seed=0, examples=20, settings=VERIFY):
    """The rows of :data:`CASES` ``indices``, ``examples`` draws each (see :func:`run`).

    Each case draws from its own generator, seeded by ``(seed, index)``: its rows
    do not depend on which other cases run, nor on the process that runs it.
    ``indices`` may be any iterable, consumed as the cases run.
    """
    require_x64()
    rows = {}
    for index in indices:
        case_ = CASES[index]
        rng = np.random.default_rng((seed, index))
        for _ in range(examples):
            for row in run_case(case_, rng, settings):
                key = (row.cls, row.name)
                if key in rows:
                    failed = rows[key].failed + row.failed
                    rows[key] = dataclasses.replace(_worse(rows[key], row), failed=failed)
                else:
                    rows[key] = row
    return list(rows.values())


def _claimed(folder):
    """The indices of :data:`CASES` that this process claims, in order, skipping those
    another process has. The cases of one class (the title's first word: ``Layer_Dense``
    and ``Layer_Dense (L1/L2)``) share their references, so one process takes them all:
    it claims the class by creating the file ``folder/<class>`` (creation with
    ``O_EXCL`` succeeds in one process only)."""
    mine = set()
    for index, case_ in enumerate(CASES):
        cls = case_.title.split()[0]
        if cls not in mine:
            try:
                os.close(os.open(os.path.join(folder, cls), os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                continue
            mine.add(cls)
        yield index


def _worker(folder, seed, examples, settings):
    """:func:`run_cases` of the cases claimed from ``folder``, in a fresh process (JAX
    prepared as the commands run it)."""
    from reference.runtime import prepare_jax

    prepare_jax()
    return run_cases(_claimed(folder), seed, examples, settings)


def run(seed=0, examples=20, settings=VERIFY, jobs=1, pool=None):
    """Run every case ``examples`` times; return one :class:`Row` per (class, gradient).

    Each row is the worst example for that gradient, ``ok`` only if every
    example agreed, ``failed`` the number of examples that did not. With
    ``jobs`` > 1, this process and ``jobs - 1`` fresh ones take the classes
    one at a time, each the next that no other has taken (most of a case's
    time is JAX compiling or loading its references, on one core; a worker
    starts late, busy importing JAX, and takes fewer). The rows are the same
    for any ``jobs``. ``pool``: a process pool of ``jobs - 1`` workers to use
    instead of fresh ones (started early, it imports JAX meanwhile).
    """
    require_x64()
    if examples < 1:
        raise ValueError(f"examples must be at least 1, got {examples}")
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if jobs == 1:
        rows = run_cases(range(len(CASES)), seed, examples, settings)
    else:
        with contextlib.ExitStack() as stack:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="nnfs-ref-verify-"))
            if pool is None:
                pool = stack.enter_context(process_pool(jobs - 1))
            futures = [pool.submit(_worker, folder, seed, examples, settings)
                       for _ in range(jobs - 1)]
            rows = run_cases(_claimed(folder), seed, examples, settings)
            for future in futures:
                rows += future.result()
    order = {c.title: i for i, c in enumerate(CASES)}  # a class's rows together
    return sorted(rows, key=lambda r: order[r.cls])


def cases_text(examples):
    """``"N random cases"``, or ``"1 random case"``."""
    return f"{examples} random case{'' if examples == 1 else 's'}"


def verdict(rows, examples):
    """One line saying whether every gradient agreed."""
    bad = [r for r in rows if not r.ok]
    if not bad:
        return (f"OK: all {len(rows)} checks agree with their JAX references "
                f"on {cases_text(examples)} each.")
    names = ", ".join(f"{r.cls}.{r.name}" for r in bad)
    return f"FAIL: {len(bad)} of {len(rows)} checks disagree with their JAX references: {names}"


__all__ = ["CASES", "Case", "Row", "case", "run", "run_case", "run_cases", "verdict"]
