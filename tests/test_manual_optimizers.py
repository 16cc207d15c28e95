"""The book's optimizers: many steps against the book's rules in JAX and against optax.

Each run feeds the same STEPS random gradients (some entries exactly 0, one
scale per step from 1e-4 to 10) to the manual class, to
``reference.optimizers.run_book`` and, where the rules coincide, to optax.
The tests at the end pin where the book and optax differ (README, "The
optimizers and optax").
"""

import numpy as np
import optax
import pytest
from helpers import assert_agrees, assert_array
from hypothesis import given, note
from hypothesis import strategies as st
from strategies import optimizer_cases

import manual
from reference import optimizers as O

KINDS = list(O.CLASSES)
CLASSES = {kind: getattr(manual, name) for kind, name in O.CLASSES.items()}


def assert_params(actual, expected, like):
    assert actual.keys() == like.keys()
    for layer in like:
        for name in ("weights", "biases"):
            want = like[layer][name]
            assert_array(actual[layer][name], want.shape, want.dtype)
            assert_agrees(f"{layer}.{name}", actual[layer][name], expected[layer][name])


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_matches_the_books_rule_over_many_steps(kind, data):
    hyper, params, grads = data.draw(optimizer_cases(kind), label="case")
    note(f"{CLASSES[kind].__name__}(**{hyper})")
    actual = O.run_manual(CLASSES[kind](**hyper), params, grads)
    assert_params(actual, O.run_book(kind, hyper, params, grads), params)


@pytest.mark.parametrize("kind, fixed", [
    ("sgd", {"momentum": 0.0}),   # plain SGD, with or without decay
    ("sgd", {"decay": 0.0}),      # momentum at a constant rate
    ("rmsprop", {}),
    ("adam", {}),
], ids=["sgd", "sgd-momentum", "rmsprop", "adam"])
@given(data=st.data())
def test_matches_optax_where_the_rules_coincide(kind, fixed, data):
    hyper, params, grads = data.draw(optimizer_cases(kind, **fixed), label="case")
    note(f"{CLASSES[kind].__name__}(**{hyper}) vs {O.optax_optimizer.__name__}")
    assert O.optax_coincides(kind, hyper)
    actual = O.run_manual(CLASSES[kind](**hyper), params, grads)
    assert_params(actual, O.run_optax(kind, hyper, params, grads), params)


def test_plain_sgd_is_the_seeds_update_bit_for_bit():
    rng = np.random.default_rng(0)
    params, grads = O.random_problem(rng)
    actual = O.run_manual(manual.Optimizer_SGD(0.7), params, grads)
    for layer in params:
        for name in ("weights", "biases"):
            expected = params[layer][name].copy()
            for g in grads[layer][name]:
                expected += -0.7 * g
            np.testing.assert_array_equal(actual[layer][name], expected)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_parameters_stay_float32(kind):
    rng = np.random.default_rng(1)
    params, grads = O.random_problem(rng, [(64, 3)])
    hyper = O.hyperparameters(kind, decay=0.01)

    def single(tree):
        return {k: {n: v.astype(np.float32) for n, v in leaves.items()}
                for k, leaves in tree.items()}

    actual = O.run_manual(CLASSES[kind](**hyper), single(params), single(grads))["dense1"]
    expected = O.run_manual(CLASSES[kind](**hyper), params, grads)["dense1"]
    for name in ("weights", "biases"):
        assert_array(actual[name], params["dense1"][name].shape, np.float32)
        np.testing.assert_allclose(actual[name], expected[name], rtol=1e-4, atol=1e-5)


def test_book_defaults():
    for kind, cls in CLASSES.items():
        optimizer = cls()
        for name, value in O.DEFAULTS[kind].items():
            assert getattr(optimizer, name) == value, (kind, name)
    assert manual.Optimizer_SGD().learning_rate == 0.5  # the seed's (the book's is 1.0)


@pytest.mark.parametrize("kind", KINDS)
def test_decay_protocol(kind):
    optimizer = CLASSES[kind](learning_rate=0.5, decay=0.1)
    layer = manual.Layer_Dense(2, 3)
    layer.dweights, layer.dbiases = np.ones((2, 3)), np.ones((1, 3))
    for t in range(4):
        optimizer.pre_update_params()
        assert optimizer.iterations == t
        assert optimizer.current_learning_rate == pytest.approx(0.5 / (1 + 0.1 * t), rel=1e-15)
        optimizer.update_params(layer)
        optimizer.post_update_params()
    assert optimizer.iterations == 4
    assert optimizer.learning_rate == 0.5


@pytest.mark.parametrize("kind, state", [
    ("sgd", ("weight_momentums", "bias_momentums")), ("adagrad", ("weight_cache", "bias_cache")),
    ("rmsprop", ("weight_cache", "bias_cache")),
    ("adam", ("weight_momentums", "bias_momentums", "weight_cache", "bias_cache")),
])
def test_state_lives_on_the_layer_under_the_books_names(kind, state):
    layer = manual.Layer_Dense(4, 3)
    layer.dweights, layer.dbiases = np.ones((4, 3)), np.ones((1, 3))
    optimizer = CLASSES[kind](**({"momentum": 0.5} if kind == "sgd" else {}))
    optimizer.update_params(layer)
    for name in state:
        param = layer.weights if name.startswith("weight") else layer.biases
        assert_array(getattr(layer, name), param.shape, param.dtype)


BAD_VALUES = [(-1.0, ValueError), (float("nan"), ValueError), (float("inf"), ValueError),
              ("0.1", TypeError), (True, TypeError), (None, TypeError)]


@pytest.mark.parametrize("kind, name", [(kind, name) for kind in KINDS
                                        for name in O.DEFAULTS[kind]])
@pytest.mark.parametrize("value, error", BAD_VALUES)
def test_rejects_bad_hyperparameters(kind, name, value, error):
    with pytest.raises(error, match=name):
        CLASSES[kind](**{name: value})


@pytest.mark.parametrize("kind, name, value", [
    ("sgd", "learning_rate", 0.0), ("adam", "epsilon", 0.0), ("sgd", "momentum", 1.0),
    ("rmsprop", "rho", 1.0), ("adam", "beta_1", 1.0), ("adam", "beta_2", 1.5),
])
def test_rejects_hyperparameters_on_the_open_ends(kind, name, value):
    with pytest.raises(ValueError, match=rf"{name} must lie in"):
        CLASSES[kind](**{name: value})


@pytest.mark.parametrize("kind", KINDS)
def test_rejects_a_flattened_dbiases_and_a_missing_backward(kind):
    layer = manual.Layer_Dense(2, 3)
    with pytest.raises(RuntimeError, match="backward"):
        CLASSES[kind]().update_params(layer)
    layer.dweights, layer.dbiases = np.zeros((2, 3)), np.zeros(3)
    with pytest.raises(ValueError, match=r"dbiases must have the shape of biases, \(1, 3\)"):
        CLASSES[kind]().update_params(layer)


def test_hyperparameters_rejects_unknown_names():
    with pytest.raises(ValueError, match="adam has no hyper-parameter"):
        O.hyperparameters("adam", momentum=0.9)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        O.hyperparameters("lion")


# --- Where the book and optax differ (README, "The optimizers and optax") -------------------

def one_step(optimizer, g):
    """optax's first update for the gradient ``g`` (a 1-D array), eagerly."""
    updates, _ = optimizer.update(g, optimizer.init(np.zeros_like(g)))
    return np.asarray(updates)


def manual_first_step(optimizer, g):
    """The manual optimizer's first step for the gradient ``g`` (1-D), from zero weights."""
    params = {"dense1": {"weights": np.zeros((1, g.size)), "biases": np.zeros((1, 1))}}
    grads = {"dense1": {"weights": g.reshape(1, 1, -1), "biases": np.zeros((1, 1, 1))}}
    return O.run_manual(optimizer, params, grads)["dense1"]["weights"][0]


G = np.array([1e-6, -1e-4, 1e-2, -1.0, 3.0])


def test_sgd_momentum_with_decay_differs_from_optax_trace():
    """Book: v = mu v - lr_t g. optax: t = g + mu t, step -lr_t t. Equal only if lr_t is constant.

    After two steps the book has -lr0 g1 - mu lr0 g1 - lr1 g2; optax has
    -lr0 g1 - mu lr1 g1 - lr1 g2: the book minus optax is -mu g1 (lr0 - lr1).
    """
    hyper = O.hyperparameters("sgd", learning_rate=0.5, decay=0.5, momentum=0.9)
    assert not O.optax_coincides("sgd", hyper)
    rng = np.random.default_rng(2)
    params = {"dense1": {"weights": rng.normal(size=(2, 3)), "biases": rng.normal(size=(1, 3))}}
    grads = {"dense1": {"weights": rng.normal(size=(2, 2, 3)),
                        "biases": rng.normal(size=(2, 1, 3))}}
    book = O.run_manual(manual.Optimizer_SGD(**hyper), params, grads)["dense1"]
    trace = O.run_optax("sgd", hyper, params, grads)["dense1"]
    grads = grads["dense1"]
    lr0, lr1 = 0.5, 0.5 / 1.5
    for name in ("weights", "biases"):
        g1 = grads[name][0]
        np.testing.assert_allclose(book[name] - trace[name], -0.9 * g1 * (lr0 - lr1),
                                   rtol=1e-12, atol=1e-15)
        assert np.all(np.abs(book[name] - trace[name]) > 1e-3 * np.abs(g1))


def test_adagrad_optax_adds_epsilon_inside_the_root_and_starts_at_0_1():
    lr, eps = 1.0, 1e-7
    book = manual_first_step(manual.Optimizer_Adagrad(lr, epsilon=eps), G)
    np.testing.assert_allclose(book, -lr * G / (np.abs(G) + eps), rtol=1e-15)
    # optax's own defaults: accumulator starts at 0.1, epsilon inside the root.
    default = one_step(optax.adagrad(lr, eps=eps), G)
    np.testing.assert_allclose(default, -lr * G / np.sqrt(0.1 + G**2 + eps), rtol=1e-14)
    # The nearest optax allows (accumulator 0): still epsilon inside the root.
    nearest = one_step(O.optax_optimizer("adagrad", O.hyperparameters("adagrad")), G)
    np.testing.assert_allclose(nearest, -lr * G / np.sqrt(G**2 + eps), rtol=1e-14)
    # The book's first step is about -lr*sign(g) whatever |g|; optax's shrinks with |g|.
    assert abs(book[0]) > 0.9 and abs(nearest[0]) < 0.01 and abs(default[0]) < 1e-5
    np.testing.assert_allclose(nearest[-2:], book[-2:], rtol=1e-7)  # large |g|: close


def test_rmsprop_optax_default_adds_epsilon_inside_the_root():
    lr, rho, eps = 0.001, 0.9, 1e-7
    book = manual_first_step(manual.Optimizer_RMSprop(lr, epsilon=eps, rho=rho), G)
    cache = (1 - rho) * G**2
    np.testing.assert_allclose(book, -lr * G / (np.sqrt(cache) + eps), rtol=1e-14)
    default = one_step(optax.rmsprop(lr, decay=rho, eps=eps), G)  # eps_in_sqrt=True
    np.testing.assert_allclose(default, -lr * G / np.sqrt(cache + eps), rtol=1e-14)
    assert abs(default[0] - book[0]) > 0.5 * abs(book[0])
    coinciding = one_step(optax.rmsprop(lr, decay=rho, eps=eps, eps_in_sqrt=False), G)
    np.testing.assert_allclose(coinciding, book, rtol=1e-14)


def test_adam_optax_differs_only_in_its_default_epsilon():
    lr = 0.001
    book = manual_first_step(manual.Optimizer_Adam(lr), G)  # epsilon 1e-7
    # First step: m_hat = g, v_hat = g**2, so the step is -lr * g / (|g| + epsilon).
    np.testing.assert_allclose(book, -lr * G / (np.abs(G) + 1e-7), rtol=1e-14)
    default = one_step(optax.adam(lr), G)  # eps 1e-8
    np.testing.assert_allclose(default, -lr * G / (np.abs(G) + 1e-8), rtol=1e-14)
    assert abs(default[0] - book[0]) > 0.05 * abs(book[0])
    np.testing.assert_allclose(one_step(optax.adam(lr, eps=1e-7), G), book, rtol=1e-14)
