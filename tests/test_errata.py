"""Where the seed's and the book's formulas differ from the true derivative (docs/errata.md).

Each test runs the seed's code as written (reference.seed_notebook), or the
book's formula, shows the difference against JAX, and shows that manual/
agrees with JAX instead. All the errata are here, and only here.
"""

import jax
import numpy as np
import pytest
from helpers import assert_agrees

import manual
from nnfs_ref.check.twin import value_and_grad_of
from reference import functions as F
from reference import seed_notebook as seed


def test_erratum_seed_dbiases_is_flattened():
    for module in (seed, manual):
        layer = module.Layer_Dense(2, 3)
        layer.forward(np.ones((4, 2)))
        layer.backward(np.ones((4, 3)))
        expected = (3,) if module is seed else (1, 3)
        assert layer.dbiases.shape == expected


def test_erratum_seed_cce_backward_ignores_the_clip():
    y_pred = np.array([[1e-9, 1 - 1e-9], [0.4, 0.6], [1 - 1e-9, 1e-9]])
    y = np.array([0, 1, 0])
    _, true_grad = value_and_grad_of(F.cce_loss)(y_pred, y)
    seed_loss = seed.Loss_CategoricalCrossEntropy()
    seed_loss.backward(y_pred, y)
    # Clipped predictions: the loss is flat there, yet the seed reports -1/(N p).
    assert true_grad[0, 0] == 0.0 and true_grad[2, 0] == 0.0
    assert seed_loss.dinputs[0, 0] == pytest.approx(-1 / (3 * 1e-9))
    assert seed_loss.dinputs[2, 0] != 0.0
    ours = manual.Loss_CategoricalCrossentropy()
    ours.backward(y_pred, y)
    assert_agrees("dinputs", ours.dinputs, true_grad)


def test_erratum_seed_cce_backward_divides_by_zero_at_zero():
    y_pred = np.array([[0.0, 1.0], [0.5, 0.5]])
    y = np.array([0, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        seed_loss = seed.Loss_CategoricalCrossEntropy()
        seed_loss.backward(y_pred, y)
    assert not np.all(np.isfinite(seed_loss.dinputs))
    ours = manual.Loss_CategoricalCrossentropy()
    ours.backward(y_pred, y)
    _, true_grad = value_and_grad_of(F.cce_loss)(y_pred, y)
    assert_agrees("dinputs", ours.dinputs, true_grad)


def test_erratum_fused_gradient_is_not_the_gradient_of_the_clipped_loss():
    # A confidently wrong sample: the true-class probability is ~e^-40 < 1e-7.
    logits = np.array([[40.0, 0.0, 0.0], [0.3, -0.2, 0.1]])
    y = np.array([1, 0])
    seed_fused = seed.Activation_Softmax_Loss_CategoricalCrossentropy()
    seed_fused.forward(logits, y)
    seed_fused.backward(seed_fused.output, y)
    clipped_grad = jax.grad(F.seed_softmax_cce_loss)(logits, y)
    # The seed's clipped loss is flat in sample 0, its fused gradient is not.
    np.testing.assert_array_equal(clipped_grad[0], 0.0)
    assert np.abs(seed_fused.dinputs[0]).max() > 0.4
    # manual/ computes the unclipped loss, so its fused gradient is exact.
    ours = manual.Activation_Softmax_Loss_CategoricalCrossentropy()
    value = ours.forward(logits, y)
    ours.backward(ours.output, y)
    expected_value, expected_grad = value_and_grad_of(F.softmax_cce_loss)(logits, y)
    assert_agrees("loss", value, expected_value)
    assert_agrees("dinputs", ours.dinputs, expected_grad)
    assert value > seed_fused.loss.calculate(seed_fused.output, y)  # 40 nats, not 16.1


def test_erratum_seed_label_minus_one_wraps_to_the_last_class():
    y_pred = np.array([[0.2, 0.3, 0.5]])
    seed_value = seed.Loss_CategoricalCrossEntropy().calculate(y_pred, np.array([-1]))
    assert seed_value == pytest.approx(-np.log(0.5))  # silently the last class
    with pytest.raises(ValueError, match="got a label of -1"):
        manual.Loss_CategoricalCrossentropy().calculate(y_pred, np.array([-1]))


def test_seed_relu_kink_convention_is_kept():
    x = np.array([[0.0, -1.0, 1.0]])
    d = np.array([[3.0, 3.0, 3.0]])
    for module in (seed, manual):
        relu = module.Activation_ReLU()
        relu.forward(x)
        relu.backward(d)
        np.testing.assert_array_equal(relu.dinputs, [[0.0, 0.0, 3.0]])


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


def test_float32_rounds_the_upper_clip_bound():
    # 1 - 1e-7 is not a float32: float32 rounds it to 1 - 2**-23 (1 - 1.19e-7), so BCE's
    # -log(1 - p) at the bound is 15.94 in float32 and 16.12 in float64
    rounded = np.float64(np.float32(1 - 1e-7))
    assert rounded == 1 - 2.0**-23
    p, y = np.array([[1.0]]), np.array([[0.0]])
    loss = manual.Loss_BinaryCrossentropy()
    single = loss.calculate(p.astype(np.float32), y.astype(np.float32))
    double = loss.calculate(p, y)
    assert single.dtype == np.float32 and double.dtype == np.float64
    np.testing.assert_allclose(single, -np.log(2.0**-23), rtol=1e-6)
    np.testing.assert_allclose(double, -np.log(1 - manual.CLIP_MAX), rtol=1e-12)  # 16.12
