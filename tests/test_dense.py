"""Layer_Dense: forward and all three gradients against jax.vjp."""

import numpy as np
import pytest
from helpers import Frozen, assert_array, assert_report
from hypothesis import given, note
from strategies import dense_cases

import manual
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
