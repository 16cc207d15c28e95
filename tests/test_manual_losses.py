"""manual/losses.py: CCE, the fused softmax + CCE, BCE, MSE and MAE, vs JAX."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import Frozen, assert_agrees, assert_array
from hypothesis import example, given, note
from strategies import (
    binary_cases,
    extreme,
    logits_cases,
    moderate,
    one_hot,
    prediction_cases,
    regression_cases,
)

import manual
from nnfs_ref.check.twin import value_and_grad_of
from reference import functions as F
from reference.vjp import fused_scale, logits_scale

N_CLIP = manual.CLIP_MIN, manual.CLIP_MAX


def _cce(y_pred, y):
    loss = manual.Loss_CategoricalCrossentropy()
    value = loss.calculate(y_pred, y)
    loss.backward(y_pred, y)
    return value, loss.dinputs


def test_seed_spelling_is_the_same_class():
    assert manual.Loss_CategoricalCrossEntropy is manual.Loss_CategoricalCrossentropy


@pytest.mark.parametrize("clipped", [False, True], ids=["interior", "clip-region"])
@given(data=prediction_cases())
def test_cce_matches_jax(clipped, data):
    y_pred, y = data
    if not clipped:
        y_pred = np.clip(y_pred, 1e-6, 1 - 1e-6)
    note(f"true-class predictions {y_pred[np.arange(len(y)), y]}")
    frozen = Frozen(y_pred, y)
    value, dinputs = _cce(y_pred, y)
    # one label dtype for the oracle: JAX compiles anew for each input dtype
    expected_value, expected_grad = value_and_grad_of(F.cce_loss)(y_pred, y.astype(np.int64))
    assert_agrees("loss", value, expected_value)
    assert_agrees("dinputs", dinputs, expected_grad)
    assert_array(np.asarray(value), (), np.float64)
    assert_array(dinputs, y_pred.shape, np.float64)
    assert_array(manual.Loss_CategoricalCrossentropy().forward(y_pred, y), y.shape, np.float64)
    frozen.assert_unchanged()


@given(prediction_cases())
def test_sparse_and_one_hot_labels_agree(data):
    y_pred, y = data
    value, dinputs = _cce(y_pred, y)
    value_1h, dinputs_1h = _cce(y_pred, one_hot(y, y_pred.shape[1]))
    assert value == value_1h
    np.testing.assert_array_equal(dinputs, dinputs_1h)
    fused = manual.Activation_Softmax_Loss_CategoricalCrossentropy()
    logits = np.log(np.clip(y_pred, 1e-300, None))
    assert fused.forward(logits, y) == fused.forward(logits, one_hot(y, y_pred.shape[1]))
    fused.backward(fused.output, y)
    sparse = fused.dinputs
    fused.backward(fused.output, one_hot(y, y_pred.shape[1]))
    np.testing.assert_array_equal(sparse, fused.dinputs)


@given(prediction_cases())
def test_one_hot_targets_match_the_books_one_hot_formula(data):
    # -log(sum_j clip(p_ij) y_ij) and logsumexp(z_i) - sum_j z_ij y_ij: the one-hot forms
    # as the book writes them, in JAX (not via the labels the sparse form reads)
    y_pred, y = data
    targets = one_hot(y, y_pred.shape[1])
    value, dinputs = _cce(y_pred, targets)
    expected_value, expected_grad = value_and_grad_of(F.cce_loss_one_hot)(y_pred, targets)
    assert_agrees("loss", value, expected_value)
    assert_agrees("dinputs", dinputs, expected_grad)
    logits = np.log(np.clip(y_pred, 1e-300, None))
    fused = manual.Activation_Softmax_Loss_CategoricalCrossentropy()
    value = fused.forward(logits, targets)
    fused.backward(fused.output, targets)
    (expected_value, _), expected_grad = value_and_grad_of(
        F.softmax_cce_loss_one_hot_and_softmax, has_aux=True)(logits, targets)
    assert_agrees("fused loss", value, expected_value, scale=logits_scale(logits))
    assert_agrees("fused dinputs", fused.dinputs, expected_grad, scale=fused_scale(logits))


def test_cce_clip_convention_at_and_beyond_the_bounds():
    lo, hi = N_CLIP
    y_pred = np.array([[lo, 1 - lo], [lo / 2, 1 - lo / 2], [0.5, 0.5], [hi, 1 - hi],
                       [1.0, 0.0], [0.0, 1.0]])
    y = np.zeros(6, dtype=int)
    _, dinputs = _cce(y_pred, y)
    n = len(y)
    expected = np.zeros_like(y_pred)
    expected[[0, 2, 3], 0] = [-1 / (n * lo), -1 / (n * 0.5), -1 / (n * hi)]
    np.testing.assert_array_equal(dinputs, expected)  # bounds pass through, outside is flat
    assert np.all(np.isfinite(dinputs))  # a prediction of 0 divides by nothing


@given(logits_cases(scale=moderate))
def test_fused_matches_jax_moderate(data):
    _check_fused(*data)


@given(logits_cases(scale=extreme))
# s_1 = e^-712 = 7e-310 is subnormal: NumPy keeps it, XLA flushes it to 0.
@example(data=(np.array([[189.05338179, -522.74844148]]), np.array([0])))
# Every sample confidently right: each s_y - 1 ~ -1e-11 is resolved only to 1e-16.
@example(data=(np.array([[-80.19314253, -132.43589956], [-24.83616221, 42.04452381],
                         [113.60465325, 10.97063993], [-55.26473205, -78.47803553],
                         [74.87457707, 163.4783043]]), np.array([0, 1, 0, 0, 1])))
def test_fused_matches_jax_extreme(data):
    _check_fused(*data)


def _check_fused(logits, y):
    fused = manual.Activation_Softmax_Loss_CategoricalCrossentropy()
    frozen = Frozen(logits, y)
    value = fused.forward(logits, y)
    output = fused.output.copy()
    fused.backward(fused.output, y)
    np.testing.assert_array_equal(fused.output, output)  # backward leaves dvalues alone
    (expected_value, expected_output), expected_grad = value_and_grad_of(
        F.softmax_cce_loss_and_softmax, has_aux=True)(logits, y.astype(np.int64))
    note(f"logits {logits.shape}, max |z| {np.abs(logits).max():.3g}, loss {value}")
    assert_agrees("output", fused.output, expected_output)
    assert_agrees("loss", value, expected_value, scale=logits_scale(logits))
    assert_agrees("dinputs", fused.dinputs, expected_grad, scale=fused_scale(logits))
    assert np.isfinite(value)
    assert_array(fused.output, logits.shape, np.float64)
    assert_array(fused.dinputs, logits.shape, np.float64)
    frozen.assert_unchanged()


@given(logits_cases(scale=moderate))
def test_fused_gradient_is_the_chain_rule_where_nothing_is_clipped(data):
    logits, y = data
    fused = manual.Activation_Softmax_Loss_CategoricalCrossentropy()
    fused.forward(logits, y)
    fused.backward(fused.output, y)
    softmax, cce = manual.Activation_Softmax(), manual.Loss_CategoricalCrossentropy()
    softmax.forward(logits)
    p = softmax.output[np.arange(len(y)), y]
    note(f"true-class probabilities {p}")
    if not np.all((p > manual.CLIP_MIN) & (p < manual.CLIP_MAX)):
        return  # a clipped sample: the chain of the clipped loss differs (tested in errata)
    cce.backward(softmax.output, y)
    softmax.backward(cce.dinputs)
    assert_agrees("dinputs", fused.dinputs, softmax.dinputs, rtol=1e-8)
    assert_agrees("loss", fused.forward(logits, y), cce.calculate(softmax.output, y), rtol=1e-8)


def test_seed_cell_25_example():
    softmax_outputs = np.array([[0.7, 0.1, 0.2], [0.1, 0.5, 0.4], [0.02, 0.9, 0.08]])
    class_targets = np.array([0, 1, 1])
    fused = manual.Activation_Softmax_Loss_CategoricalCrossentropy()
    fused.backward(softmax_outputs, class_targets)
    printed = [[-0.1, 0.03333333, 0.06666667],
               [0.03333333, -0.16666667, 0.13333333],
               [0.00666667, -0.03333333, 0.02666667]]
    assert_array(fused.dinputs, (3, 3), np.float64)
    np.testing.assert_allclose(fused.dinputs, printed, rtol=0, atol=5e-9)  # 8 printed decimals


def test_reference_clip_states_the_same_convention():
    import jax
    import jax.numpy as jnp

    for bound in N_CLIP:
        assert jax.grad(F.clip)(bound) == 1.0  # ours: pass-through at the bounds
        assert jax.grad(lambda p: jnp.clip(p, *N_CLIP))(bound) == 0.5  # jnp.clip: half
    assert jax.grad(F.clip)(N_CLIP[0] / 2) == 0.0
    assert jax.grad(F.clip)(1.0) == 0.0


def _check_loss(cls, fn, y_pred, y_true):
    loss = cls()
    frozen = Frozen(y_pred, y_true)
    value = loss.calculate(y_pred, y_true)
    loss.backward(y_pred, y_true)
    expected_value, expected_grad = value_and_grad_of(fn)(y_pred, y_true)
    assert_agrees("loss", value, expected_value)
    assert_agrees("dinputs", loss.dinputs, expected_grad)
    assert_array(loss.dinputs, y_pred.shape, np.float64)
    assert_array(loss.forward(y_pred, y_true), (len(y_pred),), np.float64)
    frozen.assert_unchanged()


@given(regression_cases())
def test_mse_matches_jax(case):
    _check_loss(manual.Loss_MeanSquaredError, F.mse_loss, *case)


@given(regression_cases())
def test_mae_matches_jax_ties_included(case):
    _check_loss(manual.Loss_MeanAbsoluteError, F.mae_loss, *case)


@given(binary_cases())
def test_bce_matches_jax_clip_region_included(case):
    _check_loss(manual.Loss_BinaryCrossentropy, F.bce_loss, *case)


def test_mae_kink_convention():
    # ours (and np.sign): 0 where p == y; jnp.abs's derivative at 0 is 1.
    loss = manual.Loss_MeanAbsoluteError()
    loss.backward(np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 1.0, 4.0]]))
    np.testing.assert_array_equal(loss.dinputs, [[0.0, 1 / 3, -1 / 3]])
    assert jax.grad(lambda u: jnp.abs(u))(0.0) == 1.0
    assert jax.grad(F.abs_flat_at_zero)(0.0) == 0.0


@pytest.mark.parametrize("cls", [manual.Loss_BinaryCrossentropy, manual.Loss_MeanSquaredError,
                                 manual.Loss_MeanAbsoluteError])
@pytest.mark.parametrize("y_true, error, message", [
    (np.zeros((3, 3)), ValueError, r"predictions' shape \(3, 2\), got \(3, 3\)"),
    (np.zeros(3), ValueError, r"predictions' shape \(3, 2\), got \(3,\)"),
    (np.array([["a", "b"]] * 3), TypeError, "real numeric"),
])
def test_bad_targets(cls, y_true, error, message):
    with pytest.raises(error, match=message):
        cls().calculate(np.full((3, 2), 0.5), y_true)


@pytest.mark.parametrize("bad", [1.5, -0.1])
def test_bce_targets_outside_0_1(bad):
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        manual.Loss_BinaryCrossentropy().calculate(np.full((2, 2), 0.5),
                                                   np.array([[0.0, bad], [1.0, 0.0]]))
