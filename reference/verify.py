"""``nnfs-ref verify``: every manual class against JAX autodiff on random cases.

Each case draws random sizes (batch 1..64, widths 1..32, classes 2..10),
random weights, random non-zero biases and a random upstream gradient (never
all ones), plus the awkward points: inputs exactly 0 at the ReLU kink,
predictions inside and on the bounds of the clip, logits up to |1e4|.
"""

import numpy as np

import manual
from reference import functions as F
from reference import optimizers as O
from reference.network import SeedNetwork, random_parameters
from reference.check import check_loss
from reference.compare import (
    RTOL, SCALE_TOL, Report, check_vjp, compare, require_x64, unchanged_checks,
    value_and_grad_of, vjp_of,
)

#: Values of a true-class probability that land on or beyond the clip bounds.
CLIP_POINTS = np.array([0.0, 1e-12, manual.CLIP_MIN, manual.CLIP_MAX, 1 - 1e-12, 1.0])


def _sizes(rng):
    return int(rng.integers(1, 65)), int(rng.integers(1, 33)), int(rng.integers(1, 33))


def _with_zeros(rng, x, fraction=0.25):
    """``x`` with about ``fraction`` of its entries set to exactly 0."""
    return np.where(rng.random(x.shape) < fraction, 0.0, x)


def _labels(rng, batch, classes):
    return rng.integers(0, classes, size=batch)


def _logits(rng, batch, classes):
    """Normal logits, each row scaled by 1, 10, 100 or 1e4 (so most cases hold huge rows)."""
    scales = rng.choice([1.0, 10.0, 100.0, 1e4], size=(batch, 1))
    return rng.normal(size=(batch, classes)) * scales


def case_dense(rng, rtol=RTOL, scale_tol=SCALE_TOL):
    batch, n_in, n_out = _sizes(rng)
    if rng.random() < 0.25:
        n_out = n_in  # square weights: a missing transpose keeps the shapes right
    params = {
        "weights": rng.normal(size=(n_in, n_out)),
        "biases": rng.normal(size=(1, n_out)),
    }
    inputs = _with_zeros(rng, rng.normal(size=(batch, n_in)))
    cotangent = rng.normal(size=(batch, n_out))
    return check_vjp(manual.Layer_Dense(n_in, n_out), F.dense, params, inputs, cotangent,
                     "Layer_Dense", rtol, scale_tol)


def case_dense_regularized(rng, rtol=RTOL, scale_tol=SCALE_TOL):
    batch, n_in, n_out = _sizes(rng)
    l1w, l2w, l1b, l2b = (float(v) for v in rng.choice([0.0, 1e-3, 0.5], size=4))
    weights = _with_zeros(rng, rng.normal(size=(n_in, n_out)), 0.2)  # L1 at exactly 0
    biases = _with_zeros(rng, rng.normal(size=(1, n_out)), 0.2)
    inputs = rng.normal(size=(batch, n_in))
    dvalues = rng.normal(size=(batch, n_out))
    layer = manual.Layer_Dense(n_in, n_out, l1w, l2w, l1b, l2b)
    layer.weights, layer.biases = weights.copy(), biases.copy()
    layer.forward(inputs)
    layer.backward(dvalues)
    params = {"weights": weights, "biases": biases}
    _, (dparams, dinputs) = vjp_of(F.dense)(params, inputs, dvalues)
    penalty, reg = value_and_grad_of(F.dense_penalty)(params, (l1w, l2w, l1b, l2b))
    return Report("Layer_Dense (L1/L2)", [
        compare("dweights", layer.dweights, dparams["weights"] + reg["weights"], rtol,
                scale_tol),
        compare("dbiases", layer.dbiases, dparams["biases"] + reg["biases"], rtol, scale_tol),
        compare("dinputs", layer.dinputs, dinputs, rtol, scale_tol),
        compare("regularization_loss", manual.Loss().regularization_loss(layer), penalty,
                rtol, scale_tol),
    ])


def case_dropout(rng, rtol=RTOL, scale_tol=SCALE_TOL):
    batch, width, _ = _sizes(rng)
    inputs = rng.normal(size=(batch, width))
    dvalues = rng.normal(size=(batch, width))
    layer = manual.Layer_Dropout(float(rng.choice([0.1, 0.5, 0.9])), rng=rng)
    layer.forward(inputs)
    layer.backward(dvalues)
    output, (_, dinputs) = vjp_of(F.dropout_layer)({"mask": layer.mask}, inputs, dvalues)
    return Report("Layer_Dropout (mask fixed)", [
        compare("output", layer.output, output, rtol, scale_tol),
        compare("dinputs", layer.dinputs, dinputs, rtol, scale_tol),
    ])


def case_relu(rng, rtol=RTOL, scale_tol=SCALE_TOL):
    batch, width, _ = _sizes(rng)
    inputs = _with_zeros(rng, rng.normal(size=(batch, width)))
    cotangent = rng.normal(size=(batch, width))
    return check_vjp(manual.Activation_ReLU(), F.relu_layer, {}, inputs, cotangent,
                     "Activation_ReLU", rtol, scale_tol)


def case_softmax(rng, rtol=RTOL, scale_tol=SCALE_TOL):
    batch = int(rng.integers(1, 65))
    classes = int(rng.integers(2, 11))
    inputs = _logits(rng, batch, classes)
    cotangent = rng.normal(size=(batch, classes))
    return check_vjp(manual.Activation_Softmax(), F.softmax_layer, {}, inputs,
                     cotangent, "Activation_Softmax", rtol, scale_tol,
                     saturation_scales(cotangent))


def case_sigmoid(rng, rtol=RTOL, scale_tol=SCALE_TOL):
    batch, width, _ = _sizes(rng)
    inputs = _with_zeros(rng, rng.normal(size=(batch, width)) * rng.choice([1.0, 10.0, 1e3]))
    dvalues = rng.normal(size=(batch, width))
    return check_vjp(manual.Activation_Sigmoid(), F.sigmoid_layer, {}, inputs, dvalues,
                     "Activation_Sigmoid", rtol, scale_tol, saturation_scales(dvalues))


def case_linear(rng, rtol=RTOL, scale_tol=SCALE_TOL):
    batch, width, _ = _sizes(rng)
    return check_vjp(manual.Activation_Linear(), F.linear_layer, {},
                     rng.normal(size=(batch, width)), rng.normal(size=(batch, width)),
                     "Activation_Linear", rtol, scale_tol)


def loss_report(title, loss, fn, y_pred, y_true, rtol=RTOL, scale_tol=SCALE_TOL):
    """A loss's mean value and ``backward`` against ``jax.value_and_grad(fn)``.

    :func:`reference.check_loss` with the JAX oracle, under ``title``.
    """
    report = check_loss(loss, y_pred, y_true, fn=fn, rtol=rtol, scale_tol=scale_tol)
    return Report(title, report.checks)


def _regression(rng):
    shape = (int(rng.integers(1, 65)), int(rng.integers(1, 9)))
    y_pred = rng.normal(size=shape)
    y_true = np.where(rng.random(shape) < 0.25, y_pred, rng.normal(size=shape))  # ties
    return y_pred, y_true


def case_mse(rng, rtol=RTOL, scale_tol=SCALE_TOL):
    return loss_report("Loss_MeanSquaredError", manual.Loss_MeanSquaredError(), F.mse_loss,
                       *_regression(rng), rtol, scale_tol)


def case_mae(rng, rtol=RTOL, scale_tol=SCALE_TOL):
    return loss_report("Loss_MeanAbsoluteError", manual.Loss_MeanAbsoluteError(), F.mae_loss,
                       *_regression(rng), rtol, scale_tol)


def case_bce(rng, rtol=RTOL, scale_tol=SCALE_TOL):
    shape = (int(rng.integers(1, 65)), int(rng.integers(1, 9)))
    y_pred = 1 / (1 + np.exp(-3 * rng.normal(size=shape)))
    y_pred = np.where(rng.random(shape) < 0.2, rng.choice(CLIP_POINTS, size=shape), y_pred)
    y_true = rng.random(shape) if rng.random() < 0.5 else rng.integers(0, 2, shape) * 1.0
    return loss_report("Loss_BinaryCrossentropy", manual.Loss_BinaryCrossentropy(), F.bce_loss,
                       y_pred, y_true, rtol, scale_tol)


def saturation_scales(dvalues):
    """Rounding scale of a saturating activation's backward pass: ``max|dvalues|``.

    Softmax: ``dinputs = s * (dvalues - dvalues . s)``; sigmoid:
    ``dinputs = dvalues * s * (1 - s)``. Where they saturate, an entry of
    ``dinputs`` comes from a difference of terms of size ``|dvalues|``
    (``1 - s`` for s ~ 1); float64 (manual's and JAX's alike) resolves it to
    ~1e-16 of ``max|dvalues|``, not of the entry itself.
    """
    return {"dinputs": float(np.abs(dvalues).max())}


def logits_scale(logits):
    """Rounding scale of the fused loss ``logsumexp(z) - z_y``: the size of the logits.

    Both terms are of size ``|z|``; for a confidently right sample the loss is
    their tiny difference, which float64 resolves to ~1e-16 of ``max|z|``
    (JAX's ``logsumexp(z) - z_y`` rounds there, manual's ``log(sum) - (z_y - max)``
    does not), not to ~1e-16 of the loss itself.
    """
    return float(np.abs(logits).max())


def fused_scale(logits):
    """Rounding scale of the fused gradient ``(s - onehot) / N``: ``1 / N``.

    For a confidently right sample ``s_y - 1`` is a tiny difference of terms
    of size 1, resolved to ~1e-16 / N; when every sample is confident, that is
    far more than 1e-12 of the array's largest entry.
    """
    return 1.0 / len(logits)


def clipped_predictions(rng, batch, classes, labels, fraction=0.3):
    """Softmax rows whose true-class entry is, for ~``fraction`` of them, a clip point."""
    exp_values = np.exp(rng.normal(size=(batch, classes)) * 3)
    y_pred = exp_values / exp_values.sum(axis=1, keepdims=True)
    rows = np.flatnonzero(rng.random(batch) < fraction)
    y_pred[rows, labels[rows]] = rng.choice(CLIP_POINTS, size=rows.size)
    return y_pred


def case_cce(rng, rtol=RTOL, scale_tol=SCALE_TOL):
    batch = int(rng.integers(1, 65))
    classes = int(rng.integers(2, 11))
    labels = _labels(rng, batch, classes)
    y_pred = clipped_predictions(rng, batch, classes, labels)
    return loss_report("Loss_CategoricalCrossentropy", manual.Loss_CategoricalCrossentropy(),
                       F.cce_loss, y_pred, labels, rtol, scale_tol)


def case_softmax_cce(rng, rtol=RTOL, scale_tol=SCALE_TOL):
    batch = int(rng.integers(1, 65))
    classes = int(rng.integers(2, 11))
    labels = _labels(rng, batch, classes)
    logits = _logits(rng, batch, classes)
    fused = manual.Activation_Softmax_Loss_CategoricalCrossentropy()
    given = {"inputs": logits.copy(), "labels": labels.copy()}
    value = fused.forward(logits, labels)
    given["dvalues"] = fused.output.copy()
    fused.backward(fused.output, labels)
    untouched = unchanged_checks(given, {"inputs": logits, "labels": labels,
                                         "dvalues": fused.output})
    (expected_value, expected_output), expected_grad = value_and_grad_of(
        F.softmax_cce_loss_and_softmax, has_aux=True)(given["inputs"], labels)
    return Report("Activation_Softmax_Loss_CategoricalCrossentropy", [
        compare("output", fused.output, expected_output, rtol, scale_tol),
        compare("loss", value, expected_value, rtol, scale_tol, logits_scale(logits)),
        compare("dinputs", fused.dinputs, expected_grad, rtol, scale_tol, fused_scale(logits)),
    ] + untouched)


def case_network(rng, rtol=RTOL, scale_tol=SCALE_TOL):
    batch = int(rng.integers(1, 65))
    params = random_parameters(rng)
    inputs = rng.normal(size=(batch, 2))
    labels = _labels(rng, batch, 3)
    net = SeedNetwork.build(manual, params=params)
    loss = net.forward(inputs, labels)
    net.backward(labels)
    expected_loss, grads = value_and_grad_of(F.network_loss)(params, inputs, labels)
    checks = [compare("loss", loss, expected_loss, rtol, scale_tol,
                      logits_scale(net.dense2.output))]
    for key, actual in net.gradients().items():
        checks += [compare(f"{key}.d{name}", actual[name], grads[key][name], rtol, scale_tol)
                   for name in ("weights", "biases")]
    return Report("Network 2-64-3", checks)


def _optimizer_case(kind, title, **fixed):
    """A case running the manual optimizer ``kind`` for STEPS steps on one book layer shape.

    Hyper-parameters are random but for ``fixed``. Compared with
    :func:`reference.optimizers.run_book` (the book's rule in JAX) and, where
    the rules coincide, with optax.
    """
    cls = getattr(manual, O.CLASSES[kind])

    def case(rng, rtol=RTOL, scale_tol=SCALE_TOL):
        hyper = {**O.random_hyperparameters(kind, rng), **fixed}
        params, grads = O.random_problem(rng, O.LAYER_SHAPES[rng.integers(2)])
        actual = O.run_manual(cls(**hyper), params, grads)
        expected = {"book": O.run_book(kind, hyper, params, grads)}
        if O.optax_coincides(kind, hyper):
            expected["optax"] = O.run_optax(kind, hyper, params, grads)
        return Report(title, [
            compare(f"{name} vs {oracle}", actual[name], result[name], rtol, scale_tol)
            for oracle, result in expected.items() for name in ("weights", "biases")
        ])

    case.__name__ = f"case_{kind}"
    case.title = title
    return case


OPTIMIZER_CASES = (
    _optimizer_case("sgd", "Optimizer_SGD", momentum=0.0),
    _optimizer_case("sgd", "Optimizer_SGD (momentum)"),
    _optimizer_case("adagrad", "Optimizer_Adagrad"),
    _optimizer_case("rmsprop", "Optimizer_RMSprop"),
    _optimizer_case("adam", "Optimizer_Adam"),
)

CASES = (case_dense, case_dense_regularized, case_dropout, case_relu, case_softmax,
         case_sigmoid, case_linear, case_cce, case_softmax_cce, case_bce, case_mse, case_mae,
         case_network) + OPTIMIZER_CASES
#: The class each case checks, to name it when the case itself fails.
TITLES = {case_dense: "Layer_Dense", case_relu: "Activation_ReLU",
          case_softmax: "Activation_Softmax", case_cce: "Loss_CategoricalCrossentropy",
          case_softmax_cce: "Activation_Softmax_Loss_CategoricalCrossentropy",
          case_network: "Network 2-64-3",
          case_sigmoid: "Activation_Sigmoid", case_linear: "Activation_Linear",
          case_bce: "Loss_BinaryCrossentropy", case_mse: "Loss_MeanSquaredError",
          case_mae: "Loss_MeanAbsoluteError",
          case_dense_regularized: "Layer_Dense (L1/L2)",
          case_dropout: "Layer_Dropout (mask fixed)",
          **{case: case.title for case in OPTIMIZER_CASES}}


def run_case(case, rng, rtol=RTOL, scale_tol=SCALE_TOL):
    """The rows of one case; a case that raises is one failing ``error`` row naming the error."""
    try:
        return case(rng, rtol, scale_tol).rows()
    except Exception as exc:  # a broken backward pass may raise anything: report it
        return [{"cls": TITLES[case], "name": f"raised {type(exc).__name__}",
                 "message": str(exc), "shape": [], "expected_shape": [],
                 "max_abs": float("nan"), "max_rel": float("nan"), "worst_index": None,
                 "ok": False, "ratio": float("inf")}]


def _worse(a, b):
    """The row to show: a failure before a pass, then the larger violation."""
    def key(r):
        return (not r["ok"], r["ratio"])
    return a if key(a) >= key(b) else b


def run(seed=0, examples=20, rtol=RTOL, scale_tol=SCALE_TOL):
    """Run every case ``examples`` times; return one row per (class, gradient).

    Each row is the worst example for that gradient, with ``ok`` true only if
    every example agreed, and ``failed`` the number of examples that did not.
    """
    require_x64()
    if examples < 1:
        raise ValueError(f"examples must be at least 1, got {examples}")
    rng = np.random.default_rng(seed)
    rows = {}
    classes = {}  # class -> the order it first appeared in, to keep a class's rows together
    for _ in range(examples):
        for case in CASES:
            for row in run_case(case, rng, rtol, scale_tol):
                row["failed"] = int(not row["ok"])
                key = (row["cls"], row["name"])
                classes.setdefault(row["cls"], len(classes))
                if key in rows:
                    failed = rows[key]["failed"] + row["failed"]
                    rows[key] = dict(_worse(rows[key], row), failed=failed)
                    rows[key]["ok"] = failed == 0
                else:
                    rows[key] = row
    return sorted(rows.values(), key=lambda r: classes[r["cls"]])


def verdict(rows, examples):
    """One line saying whether every gradient agreed."""
    bad = [r for r in rows if not r["ok"]]
    if not bad:
        return (f"OK: all {len(rows)} checks agree with their JAX references "
                f"on {examples} random cases each.")
    names = ", ".join(f"{r['cls']}.{r['name']}" for r in bad)
    return f"FAIL: {len(bad)} of {len(rows)} checks disagree with their JAX references: {names}"


__all__ = ["CASES", "run", "run_case", "verdict"]
