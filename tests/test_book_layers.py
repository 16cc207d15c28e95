"""The book's other activations and losses (issue 5, part): Sigmoid, Linear, BCE, MSE, MAE."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import Frozen, assert_agrees, assert_array, assert_report
from hypothesis import given
from strategies import activation_cases, binary_cases, extreme, regression_cases

import manual
from reference import check_vjp, value_and_grad_of
from reference import functions as F
from reference.verify import saturation_scales


@given(activation_cases())
def test_sigmoid_matches_jax_vjp(case):
    inputs, dvalues = case
    layer = manual.Activation_Sigmoid()
    frozen = Frozen(inputs, dvalues)
    assert_report(check_vjp(layer, F.sigmoid_layer, {}, inputs, dvalues,
                            scales=saturation_scales(dvalues)))
    assert_array(layer.dinputs, inputs.shape, np.float64)
    frozen.assert_unchanged()


@given(activation_cases(scale=extreme))
def test_sigmoid_extreme_inputs_stay_finite_and_exact(case):
    inputs, dvalues = case
    layer = manual.Activation_Sigmoid()
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow either
        assert_report(check_vjp(layer, F.sigmoid_layer, {}, inputs, dvalues,
                                scales=saturation_scales(dvalues)))


@given(activation_cases())
def test_linear_matches_jax_vjp(case):
    inputs, dvalues = case
    layer = manual.Activation_Linear()
    assert_report(check_vjp(layer, F.linear_layer, {}, inputs, dvalues))
    assert layer.dinputs is not dvalues


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


def test_erratum_book_mae_gradient_has_the_wrong_sign():
    y_pred, y_true = np.array([[0.5, -1.0]]), np.array([[1.0, -3.0]])
    book = np.sign(y_true - y_pred) / 2 / 1  # the book's Loss_MeanAbsoluteError.backward
    _, true_grad = value_and_grad_of(F.mae_loss)(y_pred, y_true)
    np.testing.assert_array_equal(book, -np.asarray(true_grad))
    loss = manual.Loss_MeanAbsoluteError()
    loss.backward(y_pred, y_true)
    assert_agrees("dinputs", loss.dinputs, true_grad)


def test_bce_clip_convention():
    lo, hi = manual.CLIP_MIN, manual.CLIP_MAX
    y_pred = np.array([[lo, hi, lo / 2, 1.0, 0.0, 0.5]])
    y_true = np.array([[1.0, 0.0, 1.0, 0.0, 1.0, 1.0]])
    loss = manual.Loss_BinaryCrossentropy()
    loss.backward(y_pred, y_true)
    expected = np.array([[-1 / lo, 1 / (1 - hi), 0.0, 0.0, 0.0, -1 / 0.5]]) / 6
    np.testing.assert_allclose(loss.dinputs, expected, rtol=1e-12)
    assert np.all(np.isfinite(loss.dinputs))


def test_float32_in_float32_out():
    x = np.array([[-1.0, 0.5]], dtype=np.float32)
    for layer in (manual.Activation_Sigmoid(), manual.Activation_Linear()):
        layer.forward(x)
        layer.backward(np.array([[0.3, -0.2]], dtype=np.float32))
        assert_array(layer.output, (1, 2), np.float32)
        assert_array(layer.dinputs, (1, 2), np.float32)
    p = np.array([[0.2, 0.9]], dtype=np.float32)
    y = np.array([[0.0, 1.0]], dtype=np.float32)
    for cls in (manual.Loss_BinaryCrossentropy, manual.Loss_MeanSquaredError,
                manual.Loss_MeanAbsoluteError):
        loss = cls()
        assert loss.calculate(p, y).dtype == np.float32
        loss.backward(p, y)
        assert_array(loss.dinputs, (1, 2), np.float32)


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
