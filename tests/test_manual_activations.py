"""manual/activations.py: ReLU, Softmax, Sigmoid and Linear, vs jax.vjp."""

import jax
import jax.numpy as jnp
import numpy as np
from helpers import Frozen, assert_array, assert_report
from hypothesis import given, note
from hypothesis import strategies as st
from strategies import activation_cases, extreme, moderate

import manual
from reference import check_vjp
from reference import functions as F
from reference.vjp import saturation_scales


@given(activation_cases())
def test_relu_matches_jax_vjp(case):
    inputs, dvalues = case
    note(f"shape {inputs.shape}, {int((inputs == 0).sum())} inputs exactly 0")
    relu = manual.Activation_ReLU()
    frozen = Frozen(inputs, dvalues)
    assert_report(check_vjp(relu, F.relu_layer, {}, inputs, dvalues))
    assert_array(relu.output, inputs.shape, np.float64)
    assert_array(relu.dinputs, inputs.shape, np.float64)
    frozen.assert_unchanged()


def test_relu_gradient_at_the_kink_is_zero():
    inputs = np.array([[-1.0, 0.0, 2.0], [0.0, -0.0, 1e-300]])
    dvalues = np.array([[5.0, 7.0, 11.0], [13.0, 17.0, 19.0]])
    relu = manual.Activation_ReLU()
    relu.forward(inputs)
    relu.backward(dvalues)
    np.testing.assert_array_equal(relu.dinputs, [[0.0, 0.0, 11.0], [0.0, 0.0, 19.0]])


def test_reference_relu_states_the_same_kink_convention():
    # jax.nn.relu: gradient 0 at 0 (ours); jnp.maximum(0, x) splits a tie: 0.5.
    assert jax.grad(F.relu)(0.0) == 0.0
    assert jax.grad(lambda x: jnp.maximum(0.0, x))(0.0) == 0.5


@given(activation_cases(scale=moderate, min_width=2))
def test_softmax_matches_jax_vjp(case):
    logits, dvalues = case
    softmax = manual.Activation_Softmax()
    frozen = Frozen(logits, dvalues)
    assert_report(check_vjp(softmax, F.softmax_layer, {}, logits, dvalues,
                            scales=saturation_scales(dvalues)))
    assert_array(softmax.output, logits.shape, np.float64)
    assert_array(softmax.dinputs, logits.shape, np.float64)
    np.testing.assert_allclose(softmax.output.sum(axis=1), 1.0, rtol=1e-12)
    frozen.assert_unchanged()


@given(activation_cases(scale=extreme, min_width=2))
def test_softmax_extreme_logits_stay_finite_and_exact(case):
    logits, dvalues = case
    softmax = manual.Activation_Softmax()
    assert_report(check_vjp(softmax, F.softmax_layer, {}, logits, dvalues,
                            scales=saturation_scales(dvalues)))
    assert np.all(np.isfinite(softmax.output)) and np.all(np.isfinite(softmax.dinputs))


@given(st.integers(1, 8), st.integers(2, 6))
def test_softmax_gradient_vanishes_for_a_constant_upstream(batch, classes):
    # Why the tests never use an all-ones upstream gradient: it proves nothing.
    softmax = manual.Activation_Softmax()
    softmax.forward(np.random.default_rng(batch).normal(size=(batch, classes)))
    softmax.backward(np.ones((batch, classes)))
    np.testing.assert_allclose(softmax.dinputs, 0.0, atol=1e-15)


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
