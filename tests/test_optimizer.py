"""Optimizer_SGD: one step is w - lr * dw, b - lr * db."""

import numpy as np
import pytest
from helpers import assert_agrees, assert_array
from hypothesis import given
from hypothesis import strategies as st
from strategies import nonzero_arrays, normal_arrays, widths

import manual
from reference import jit_of
from reference import functions as F


@st.composite
def sgd_cases(draw):
    n_in, n_out = draw(widths), draw(widths)
    params = {"weights": draw(normal_arrays((n_in, n_out))),
              "biases": draw(nonzero_arrays((1, n_out)))}
    grads = {"weights": draw(normal_arrays((n_in, n_out))),
             "biases": draw(normal_arrays((1, n_out)))}
    lr = draw(st.floats(1e-4, 10.0))
    return params, grads, lr


@given(sgd_cases())
def test_sgd_step(case):
    params, grads, lr = case
    layer = manual.Layer_Dense(*params["weights"].shape)
    layer.weights, layer.biases = params["weights"].copy(), params["biases"].copy()
    layer.dweights, layer.dbiases = grads["weights"], grads["biases"]
    manual.Optimizer_SGD(lr).update_params(layer)
    expected = jit_of(F.sgd_update)(params, grads, lr)
    assert_array(layer.weights, params["weights"].shape, np.float64)
    assert_array(layer.biases, params["biases"].shape, np.float64)
    assert_agrees("weights", layer.weights, expected["weights"])
    assert_agrees("biases", layer.biases, expected["biases"])
    np.testing.assert_array_equal(layer.weights, params["weights"] - lr * grads["weights"])


def test_sgd_default_learning_rate_is_the_seeds():
    assert manual.Optimizer_SGD().learning_rate == 0.5


@pytest.mark.parametrize("lr, error", [
    (0.0, ValueError), (-1.0, ValueError), (float("nan"), ValueError), (float("inf"), ValueError),
    ("0.1", TypeError), (True, TypeError),
])
def test_sgd_rejects_bad_learning_rates(lr, error):
    with pytest.raises(error, match="learning_rate"):
        manual.Optimizer_SGD(lr)


def test_sgd_rejects_a_flattened_dbiases_and_a_missing_backward():
    layer = manual.Layer_Dense(2, 3)
    with pytest.raises(RuntimeError, match="backward"):
        manual.Optimizer_SGD().update_params(layer)
    layer.dweights, layer.dbiases = np.zeros((2, 3)), np.zeros(3)
    with pytest.raises(ValueError, match=r"dbiases must have the shape of biases, \(1, 3\)"):
        manual.Optimizer_SGD().update_params(layer)
