"""nnfs_ref.check.layer: check_layer passes right layers and names wrong ones, on both oracles."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from strategies import dense_cases

import manual
from nnfs_ref import assert_layer_gradients, assert_loss_gradients, check_layer
from reference import functions as F


def _dense(weights, biases):
    layer = manual.Layer_Dense(*weights.shape)
    layer.weights, layer.biases = weights.copy(), biases.copy()
    return layer


@given(dense_cases())
def test_manual_dense_passes_both_oracles(case):
    inputs, weights, biases, _ = case
    fd = check_layer(_dense(weights, biases), inputs)
    assert fd.ok, str(fd)
    assert fd.oracle.startswith("central finite differences")
    jx = check_layer(_dense(weights, biases), inputs, fn=F.dense)
    assert jx.ok, str(jx)
    assert [c.name for c in jx.checks] == ["output", "dinputs", "dweights", "dbiases",
                                           "inputs unchanged", "dvalues unchanged"]


def test_activations_and_losses_pass():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 5)) * 3  # no exact zeros: finite differences cannot judge a kink
    for layer, fn in ((manual.Activation_ReLU(), F.relu_layer),
                      (manual.Activation_Softmax(), F.softmax_layer)):
        assert check_layer(layer, x).ok
        assert check_layer(layer, x, fn=fn).ok
    y_pred = rng.dirichlet(np.ones(5), size=7)
    y = rng.integers(0, 5, size=7)
    assert_loss_gradients(manual.Loss_CategoricalCrossentropy(), y_pred, y)
    assert_loss_gradients(manual.Loss_CategoricalCrossentropy(), y_pred, y, fn=F.cce_loss)


class ScaledDense(manual.Layer_Dense):
    """dweights off by a relative 1e-6: the smallest bug the checks promise to catch."""

    def backward(self, dvalues):
        super().backward(dvalues)
        self.dweights = self.dweights * (1 + 1e-6)


class FlatBiasDense(manual.Layer_Dense):
    def backward(self, dvalues):
        super().backward(dvalues)
        self.dbiases = self.dbiases.ravel()


class NoTransposeDense(manual.Layer_Dense):
    def backward(self, dvalues):
        super().backward(dvalues)
        self.dinputs = dvalues @ self.weights  # right shape only because W is square


class InPlaceReLU(manual.Activation_ReLU):
    def backward(self, dvalues):
        dvalues *= self.inputs > 0
        self.dinputs = dvalues


@pytest.mark.parametrize("oracle", [None, F.dense], ids=["finite-differences", "jax"])
@pytest.mark.parametrize("cls, failing", [
    (ScaledDense, "dweights"), (FlatBiasDense, "dbiases"), (NoTransposeDense, "dinputs"),
])
def test_wrong_dense_layers_are_named(cls, failing, oracle):
    rng = np.random.default_rng(2)
    layer = cls(4, 4)
    layer.biases = rng.normal(size=(1, 4))
    report = check_layer(layer, rng.normal(size=(6, 4)), fn=oracle)
    assert not report.ok
    assert [c.name for c in report.failures] == [failing]
    assert f"FAIL: {failing}" in str(report)


def test_in_place_write_into_dvalues_is_caught():
    report = check_layer(InPlaceReLU(), np.random.default_rng(3).normal(size=(5, 4)))
    assert [c.name for c in report.failures] == ["dvalues unchanged"]


def test_assert_layer_gradients_raises_with_the_table():
    with pytest.raises(AssertionError, match="dweights disagrees"):
        assert_layer_gradients(ScaledDense(3, 2), np.random.default_rng(4).normal(size=(5, 3)))


def test_the_upstream_gradient_is_random_and_seeded():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(4, 3))
    softmax = manual.Activation_Softmax()
    a = check_layer(softmax, x, seed=1)
    b = check_layer(softmax, x, seed=1)
    assert [c.max_abs for c in a.checks] == [c.max_abs for c in b.checks]
    # softmax's gradient vanishes for a constant upstream: a nonzero one proves it is not
    assert np.abs(softmax.dinputs).max() > 1e-3


def test_finite_differences_need_no_jax():
    code = ("import sys, numpy as np\nimport manual\nfrom nnfs_ref import check_layer\n"
            "assert check_layer(manual.Layer_Dense(3, 2), np.ones((4, 3))).ok\n"
            "assert 'jax' not in sys.modules, 'check_layer imported jax'\n")
    subprocess.run([sys.executable, "-c", code], check=True,
                   env={**os.environ, "PYTHONPATH": os.getcwd()})
