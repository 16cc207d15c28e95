"""manual/engine.py: the scalar Value and the Tensor engine, each expression of
reference/engine.py vs jax.vjp of the same expression."""

import numpy as np
import pytest
from helpers import assert_array, assert_report
from hypothesis import given
from strategies import generators

from manual import engine
from nnfs_ref.check.report import Report
from reference import engine as R
from reference.vjp import VERIFY


@pytest.mark.parametrize("expression", R.SCALAR, ids=[e.text for e in R.SCALAR])
@given(draws=generators())
def test_value_matches_jax_vjp(expression, draws):
    assert_report(Report("Value", R.checks(engine.Value, [expression], draws, VERIFY)))


@pytest.mark.parametrize("expression", R.TENSOR, ids=[e.text for e in R.TENSOR])
@given(draws=generators())
def test_tensor_matches_jax_vjp(expression, draws):
    assert_report(Report("Tensor", R.checks(engine.Tensor, [expression], draws, VERIFY)))


def test_a_tensor_gradient_has_its_leaf_shape_and_dtype():
    x = engine.Tensor(np.ones((3, 1)), requires_grad=True)
    y = engine.Tensor(np.arange(4.0))
    (x * y).sum().backward()
    assert_array(x.grad, (3, 1), np.float64)
    np.testing.assert_array_equal(x.grad, np.full((3, 1), 6.0))
    assert_array(y.grad, (4,), np.float64)
    np.testing.assert_array_equal(y.grad, np.full(4, 3.0))


def test_unbroadcast_sums_the_axes_a_broadcast_expanded():
    grad = np.arange(24.0).reshape(2, 3, 4)
    for shape in [(2, 3, 4), (3, 4), (4,), (1, 4), (3, 1), (2, 1, 4), ()]:
        # a reduction to 0-d gives a NumPy scalar: += keeps a 0-d grad an array
        summed = np.asarray(engine._unbroadcast(grad, shape))
        assert_array(summed, shape, np.float64)
        for index in np.ndindex(*shape):  # each entry: the entries broadcast from it
            hit = np.zeros(shape)
            hit[index] = 1.0
            assert summed[index] == np.sum(grad * np.broadcast_to(hit, grad.shape))


def test_a_zero_dimensional_leaf_broadcast_over_a_matrix_gets_a_zero_dimensional_grad():
    c = engine.Tensor(np.array(2.0))
    x = engine.Tensor(np.arange(6.0).reshape(2, 3))
    (x * c).sum().backward()
    assert_array(c.grad, (), np.float64)
    assert c.grad == 15.0
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 2.0))


def test_relu_gradient_at_the_kink_is_zero():
    v = engine.Value(0.0)
    v.relu().backward()
    assert v.grad == 0.0
    t = engine.Tensor(np.array([-1.0, 0.0, 2.0]))
    t.relu().backward(np.array([5.0, 7.0, 11.0]))
    np.testing.assert_array_equal(t.grad, [0.0, 0.0, 11.0])


def test_gradients_accumulate_over_backward_calls_until_zero_grad():
    a = engine.Value(1.5)
    out = a * a
    out.backward()
    out.backward()
    assert a.grad == 6.0  # 2 * (2 * 1.5): the book's training loop resets them
    t = engine.Tensor(np.array([1.0, 2.0]))
    (t * t).sum().backward()
    t.zero_grad()
    assert_array(t.grad, (2,), np.float64)
    assert not t.grad.any()
