"""One training epoch of the seed's network, for each implementation.

Every epoch does the same work: forward (Dense, ReLU, Dense, softmax + CCE
loss), accuracy, backward, and an SGD update of both layers.
"""

import numpy as np


def spiral(samples, classes=3, seed=0):
    """``samples`` spiral points in total (``samples // classes`` per class), labels uint8."""
    from nnfs.datasets import spiral_data

    np.random.seed(seed)
    return spiral_data(samples=samples // classes, classes=classes)


def numpy_epoch(module, X, y, hidden, classes=3, learning_rate=0.5, dtype=None):
    """A zero-argument callable running one epoch with the book's classes from ``module``.

    ``module`` is :mod:`manual` or :mod:`reference.seed_notebook` (the seed's code
    as written), built into :class:`reference.network.SeedNetwork`. With ``dtype``,
    data and parameters are cast to it.
    """
    from reference.network import SeedNetwork

    if dtype is not None:
        X = X.astype(dtype)
    net = SeedNetwork.build(module, X.shape[1], hidden, classes, dtype=dtype)
    optimizer = module.Optimizer_SGD(learning_rate)

    def epoch():
        loss = net.forward(X, y)
        accuracy = net.accuracy(y)
        net.backward(y)
        optimizer.update_params(net.dense1)
        optimizer.update_params(net.dense2)
        return loss, accuracy

    return epoch


def jax_setup(X, y, hidden, classes=3, learning_rate=0.5, dtype=np.float32):
    """``(step, loop, params, X, y)`` for the reference network in JAX.

    ``step(params, X, y) -> (params, loss, accuracy)`` is one jit-compiled epoch;
    ``loop(params, X, y, n)`` runs ``n`` epochs inside one compiled
    ``lax.fori_loop`` (``n`` is traced: one compilation serves every count).
    """
    import jax
    import jax.numpy as jnp

    from reference import functions as F

    rng = np.random.default_rng(0)
    params = {
        "dense1": {"weights": 0.01 * rng.standard_normal((X.shape[1], hidden)),
                   "biases": np.zeros((1, hidden))},
        "dense2": {"weights": 0.01 * rng.standard_normal((hidden, classes)),
                   "biases": np.zeros((1, classes))},
    }
    params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), params)

    def loss_and_accuracy(p, X, y):
        logits = F.network_logits(p, X)
        accuracy = jnp.mean(jnp.argmax(logits, axis=1) == y).astype(dtype)
        return F.softmax_cce_loss(logits, y), accuracy

    def one_epoch(p, X, y):
        (loss, accuracy), grads = jax.value_and_grad(loss_and_accuracy, has_aux=True)(p, X, y)
        return F.sgd_update(p, grads, learning_rate), loss, accuracy

    @jax.jit
    def loop(p, X, y, n):
        zero = jnp.zeros((), dtype)
        return jax.lax.fori_loop(0, n, lambda i, c: one_epoch(c[0], X, y), (p, zero, zero))

    return (jax.jit(one_epoch), loop, params, jnp.asarray(X, dtype),
            jnp.asarray(y, jnp.int32))
