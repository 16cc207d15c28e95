"""manual/layers.py: Layer_Dense (with its L1/L2 regularizers) and Layer_Dropout, vs JAX."""

import jax
import numpy as np
import pytest
from helpers import Frozen, assert_agrees, assert_array, assert_report
from hypothesis import given, note
from hypothesis import strategies as st
from strategies import activation_cases, dense_cases, generators

import manual
from nnfs_ref.check.twin import vjp_of
from reference import check_vjp
from reference import functions as F


@given(dense_cases())
def test_dense_matches_jax_vjp(case):
    inputs, weights, biases, dvalues = case
    note(f"inputs {inputs.shape}, weights {weights.shape}")
    layer = manual.Layer_Dense(*weights.shape)
    frozen = Frozen(inputs, dvalues)
    report = check_vjp(layer, F.dense, {"weights": weights, "biases": biases}, inputs, dvalues)
    assert_report(report)
    batch, (n_in, n_out) = len(inputs), weights.shape
    assert_array(layer.output, (batch, n_out), np.float64)
    assert_array(layer.dinputs, (batch, n_in), np.float64)
    assert_array(layer.dweights, (n_in, n_out), np.float64)
    assert_array(layer.dbiases, (1, n_out), np.float64)
    frozen.assert_unchanged()


def test_dense_init_follows_the_seed():
    np.random.seed(3)
    layer = manual.Layer_Dense(5, 7)
    np.random.seed(3)
    expected = 0.01 * np.random.randn(5, 7)
    np.testing.assert_array_equal(layer.weights, expected)
    assert_array(layer.weights, (5, 7), np.float64)
    assert_array(layer.biases, (1, 7), np.float64)
    assert not layer.biases.any()


def test_dbiases_is_a_row_not_flat():
    layer = manual.Layer_Dense(2, 3)
    layer.forward(np.ones((4, 2)))
    layer.backward(np.arange(12.0).reshape(4, 3))
    assert_array(layer.dbiases, (1, 3), np.float64)
    np.testing.assert_array_equal(layer.dbiases, [[18.0, 22.0, 26.0]])


@pytest.mark.parametrize("n_inputs, n_neurons, error", [
    (0, 3, ValueError), (2, -1, ValueError), (2.0, 3, TypeError), (2, "3", TypeError),
])
def test_dense_rejects_bad_sizes(n_inputs, n_neurons, error):
    with pytest.raises(error, match="n_inputs|n_neurons"):
        manual.Layer_Dense(n_inputs, n_neurons)


strengths = st.sampled_from([0.0, 1e-4, 0.5, 3.0])


@given(dense_cases(), strengths, strengths, strengths, strengths, generators())
def test_regularized_dense_matches_jax(case, l1w, l2w, l1b, l2b, rng):
    inputs, weights, biases, dvalues = case
    weights = np.where(rng.random(weights.shape) < 0.2, 0.0, weights)  # pin sign(0) = +1
    biases = np.where(rng.random(biases.shape) < 0.2, 0.0, biases)
    note(f"l1w={l1w} l2w={l2w} l1b={l1b} l2b={l2b}")
    layer = manual.Layer_Dense(*weights.shape, weight_regularizer_l1=l1w,
                               weight_regularizer_l2=l2w, bias_regularizer_l1=l1b,
                               bias_regularizer_l2=l2b)
    layer.weights, layer.biases = weights.copy(), biases.copy()
    frozen = Frozen(inputs, dvalues)
    layer.forward(inputs)
    layer.backward(dvalues)
    params = {"weights": weights, "biases": biases, "strengths": np.array([l1w, l2w, l1b, l2b])}
    (_, expected), (dparams, dinputs) = vjp_of(F.dense_and_penalty)(
        params, inputs, (dvalues, np.float64(1.0)))
    assert_agrees("dweights", layer.dweights, dparams["weights"])
    assert_agrees("dbiases", layer.dbiases, dparams["biases"])
    assert_agrees("dinputs", layer.dinputs, dinputs)
    assert_array(layer.dbiases, biases.shape, np.float64)
    assert_agrees("regularization_loss", manual.Loss().regularization_loss(layer), expected)
    frozen.assert_unchanged()


def test_l1_sign_at_zero_is_plus_one():
    layer = manual.Layer_Dense(1, 3, weight_regularizer_l1=0.5)
    layer.weights = np.array([[-2.0, 0.0, 3.0]])
    layer.forward(np.zeros((1, 1)))
    layer.backward(np.zeros((1, 3)))
    np.testing.assert_array_equal(layer.dweights, [[-0.5, 0.5, 0.5]])
    assert jax.grad(F.regularization_loss)(np.zeros(1)[0], 0.5) == 0.5  # jnp.abs agrees


def test_no_regularizer_means_no_penalty():
    layer = manual.Layer_Dense(3, 2)
    assert manual.Loss().regularization_loss(layer) == 0.0


@pytest.mark.parametrize("name", ["weight_regularizer_l1", "weight_regularizer_l2",
                                  "bias_regularizer_l1", "bias_regularizer_l2"])
@pytest.mark.parametrize("value, error", [(-0.1, ValueError), (float("inf"), ValueError),
                                          ("0.1", TypeError), (None, TypeError)])
def test_bad_strengths(name, value, error):
    with pytest.raises(error, match=name):
        manual.Layer_Dense(2, 3, **{name: value})


@given(activation_cases(), st.sampled_from([0.0, 0.1, 0.5, 0.9]), st.integers(0, 2**32 - 1))
def test_dropout_matches_jax_with_the_mask_held_fixed(case, rate, seed):
    inputs, dvalues = case
    layer = manual.Layer_Dropout(rate, rng=seed)
    frozen = Frozen(inputs, dvalues)
    layer.forward(inputs)
    assert set(np.unique(layer.mask)) <= {0.0, 1 / (1 - rate)}
    output, (_, dinputs) = vjp_of(F.dropout_layer)({"mask": layer.mask}, inputs, dvalues)
    layer.backward(dvalues)
    assert_agrees("output", layer.output, output)
    assert_agrees("dinputs", layer.dinputs, dinputs)
    assert_array(layer.dinputs, inputs.shape, np.float64)
    frozen.assert_unchanged()


def test_dropout_is_inverted_and_seedable():
    x = np.ones((200, 500))
    a, b = manual.Layer_Dropout(0.3, rng=7), manual.Layer_Dropout(0.3, rng=7)
    a.forward(x)
    b.forward(x)
    np.testing.assert_array_equal(a.mask, b.mask)
    kept = (a.mask > 0).mean()
    assert abs(kept - 0.7) < 5 * np.sqrt(0.7 * 0.3 / x.size)  # 5 sigma
    assert abs(a.output.mean() - 1.0) < 5 * np.sqrt(0.3 / 0.7 / x.size)


def test_dropout_off_outside_training():
    x = np.random.default_rng(0).normal(size=(4, 5))
    layer = manual.Layer_Dropout(0.5, rng=0)
    layer.forward(x, training=False)
    np.testing.assert_array_equal(layer.output, x)
    layer.backward(np.full((4, 5), 2.0))
    np.testing.assert_array_equal(layer.dinputs, np.full((4, 5), 2.0))


@pytest.mark.parametrize("rate, error", [(1.0, ValueError), (-0.1, ValueError),
                                         (1.5, ValueError), ("0.5", TypeError)])
def test_bad_dropout_rate(rate, error):
    with pytest.raises(error, match="rate"):
        manual.Layer_Dropout(rate)


def test_dropout_backward_before_forward():
    with pytest.raises(RuntimeError, match="before forward"):
        manual.Layer_Dropout(0.5).backward(np.ones((2, 2)))
