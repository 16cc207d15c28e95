"""The seed's whole network: four parameter gradients vs jax.grad and vs finite differences."""

import numpy as np
from helpers import assert_agrees, assert_array
from hypothesis import assume, given, note
from strategies import network_cases

import manual
from nnfs_ref.check.twin import value_and_grad_of
from reference import functions as F
from reference.network import SeedNetwork
from reference.vjp import logits_scale, network_scales

KEYS = [(layer, name) for layer in ("dense1", "dense2") for name in ("weights", "biases")]


@given(network_cases())
def test_network_gradients_match_jax_grad(case):
    params, X, y = case
    net = SeedNetwork.build(manual, params=params)
    loss = net.forward(X, y)
    net.backward(y)
    expected_loss, grads = value_and_grad_of(F.network_loss)(params, X, y.astype(np.int64))
    assert_agrees("loss", loss, expected_loss, scale=logits_scale(net.dense2.output))
    scales = network_scales(params, X)
    for key, name in KEYS:
        actual = net.gradients()[key][name]
        assert_array(actual, params[key][name].shape, np.float64)
        assert_agrees(f"{key}.d{name}", actual, grads[key][name], scale=scales[key][name])


def _numpy_loss(params, X, y):
    """The network's loss from manual forward passes alone (no backward, no JAX)."""
    return SeedNetwork.build(manual, params=params).forward(X, y)


H = 1e-6


def central_difference(f, x, h=H):
    """``(f(x + h) - f(x - h)) / 2h`` entry by entry: an oracle independent of the checker's."""
    grad = np.empty_like(x)
    for k in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        grad[k] = (f(up) - f(down)) / (2 * h)
    return grad


# Entry by entry, two forwards per parameter: a hidden width of 16 (99 parameters)
# costs a quarter of the seed's 64 (387); the JAX test above covers width 64.
@given(network_cases(hidden=16))
def test_network_gradients_match_central_differences(case):
    params, X, y = case
    pre_activation = X @ params["dense1"]["weights"] + params["dense1"]["biases"]
    # Finite differences are meaningless across the ReLU kink: a step of H in a
    # parameter moves a pre-activation by at most H * max(1, |X|); keep clear of it.
    assume(np.abs(pre_activation).min() > 10 * H * max(1.0, np.abs(X).max()))
    net = SeedNetwork.build(manual, params=params)
    loss = net.forward(X, y)
    net.backward(y)
    for key, name in KEYS:
        layer = getattr(net, key)
        def loss_at(value, key=key, name=name):
            trial = {k: dict(v) for k, v in params.items()}
            trial[key][name] = value
            return _numpy_loss(trial, X, y)
        numeric = central_difference(loss_at, params[key][name], H)
        note(f"{key}.d{name}: max |manual - fd| = "
             f"{np.abs(getattr(layer, 'd' + name) - numeric).max():.3e}")
        # Central differences are only good to eps*|loss|/H ~ 2e-10*|loss| (rounding)
        # plus H**2*|f'''| (truncation): a coarser, independent oracle. JAX is the tight one.
        assert_agrees(f"{key}.d{name}", getattr(layer, "d" + name), numeric,
                      rtol=1e-6, scale_tol=1e-8, scale=max(1.0, abs(loss)))
