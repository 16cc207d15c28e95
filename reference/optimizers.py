"""The book's optimizers as pure JAX functions, optax's counterparts, and runners.

A run applies one optimizer for ``steps`` steps to the parameters of Dense
layers (``{"dense1": {"weights": (n_in, n_out), "biases": (1, n_out)}, ...}``),
given the gradient at every step (each leaf with a leading ``steps`` axis).
Feeding the same gradients to the manual class (:func:`run_manual`) and to
the book's rule in JAX and optax (:func:`run_oracles`) checks each update
rule apart from any loss.

``hyper`` is a dict of the book's hyper-parameters (``learning_rate``,
``decay`` and, per optimizer, ``momentum``, ``epsilon``, ``rho``, ``beta_1``,
``beta_2``); missing ones take the book's defaults (:data:`DEFAULTS`).

Where the book's rule and optax's coincide (:func:`optax_coincides`),
:func:`optax_optimizer` builds the optax optimizer that computes it; the
README lists where they differ.
"""

import functools
from types import MappingProxyType

import jax
import jax.numpy as jnp
import numpy as np

#: The book's defaults (``Optimizer_SGD``'s learning rate is the seed's 0.5).
DEFAULTS = MappingProxyType({
    "sgd": MappingProxyType({"learning_rate": 0.5, "decay": 0.0, "momentum": 0.0}),
    "adagrad": MappingProxyType({"learning_rate": 1.0, "decay": 0.0, "epsilon": 1e-7}),
    "rmsprop": MappingProxyType({"learning_rate": 0.001, "decay": 0.0, "epsilon": 1e-7,
                                 "rho": 0.9}),
    "adam": MappingProxyType({"learning_rate": 0.001, "decay": 0.0, "epsilon": 1e-7,
                              "beta_1": 0.9, "beta_2": 0.999}),
})

#: The manual class of each optimizer.
CLASSES = MappingProxyType({"sgd": "Optimizer_SGD", "adagrad": "Optimizer_Adagrad",
                            "rmsprop": "Optimizer_RMSprop", "adam": "Optimizer_Adam"})


def hyperparameters(kind, **given):
    """The book's defaults for ``kind``, updated with ``given``; unknown names raise."""
    if kind not in DEFAULTS:
        raise ValueError(f"optimizer must be one of {', '.join(DEFAULTS)}, got {kind!r}")
    unknown = set(given) - set(DEFAULTS[kind])
    if unknown:
        raise ValueError(f"{kind} has no hyper-parameter(s) {', '.join(sorted(unknown))} "
                         f"(it has {', '.join(DEFAULTS[kind])})")
    return {**DEFAULTS[kind], **given}


def learning_rate_at(hyper, t):
    """The book's decayed rate before step ``t`` (0-based): ``lr / (1 + decay * t)``."""
    return hyper["learning_rate"] / (1 + hyper["decay"] * t)


def book_step(kind, hyper, p, g, state, t):
    """One step of the book's rule on one array ``p`` with gradient ``g``.

    ``state`` is ``(momentums, cache)`` (arrays like ``p``, zeros at first);
    ``t`` the number of completed steps. Returns ``(p, state)``.
    """
    lr = learning_rate_at(hyper, t)
    m, cache = state
    if kind == "sgd":
        m = hyper["momentum"] * m - lr * g          # v = mu * v - lr * g; w += v
        return p + m, (m, cache)
    if kind == "adagrad":
        cache = cache + g**2
        return p - lr * g / (jnp.sqrt(cache) + hyper["epsilon"]), (m, cache)
    if kind == "rmsprop":
        cache = hyper["rho"] * cache + (1 - hyper["rho"]) * g**2
        return p - lr * g / (jnp.sqrt(cache) + hyper["epsilon"]), (m, cache)
    if kind == "adam":
        m = hyper["beta_1"] * m + (1 - hyper["beta_1"]) * g
        cache = hyper["beta_2"] * cache + (1 - hyper["beta_2"]) * g**2
        m_hat = m / (1 - hyper["beta_1"] ** (t + 1))
        v_hat = cache / (1 - hyper["beta_2"] ** (t + 1))
        return p - lr * m_hat / (jnp.sqrt(v_hat) + hyper["epsilon"]), (m, cache)
    raise ValueError(f"optimizer must be one of {', '.join(DEFAULTS)}, got {kind!r}")


def _book_run(kind, hyper, params, grads):
    """The book's rule for ``kind`` over every step of ``grads`` (traced: :func:`run_oracles`).

    One ``lax.scan`` over the steps, each step updating every array in turn.
    """
    leaves, tree = jax.tree_util.tree_flatten(params)

    def step(carry, g_t):
        ps, states, t = carry
        stepped = [book_step(kind, hyper, p, g, state, t)
                   for p, g, state in zip(ps, g_t, states)]
        return ([p for p, _ in stepped], [state for _, state in stepped], t + 1), None

    states = [(jnp.zeros_like(p), jnp.zeros_like(p)) for p in leaves]
    (leaves, _, _), _ = jax.lax.scan(step, (leaves, states, 0), tree.flatten_up_to(grads))
    return tree.unflatten(leaves)


def optax_coincides(kind, hyper):
    """Whether optax has an optimizer computing exactly the book's rule with ``hyper``.

    Plain SGD, RMSprop (``eps_in_sqrt=False``) and Adam always; SGD with
    momentum only at a constant rate (no decay); Adagrad never (optax adds
    epsilon inside the root and starts its accumulator at 0.1).
    """
    if kind == "sgd":
        return not (hyper["momentum"] and hyper["decay"])
    return kind in ("rmsprop", "adam")


def optax_optimizer(kind, hyper):
    """optax's optimizer closest to the book's rule for ``kind`` with ``hyper``.

    It computes the book's rule exactly where :func:`optax_coincides` says so.
    Decay becomes the schedule ``count -> lr / (1 + decay * count)``, counted
    from 0 like the book's ``iterations``. SGD always gets optax's momentum
    trace (with momentum 0 it is the identity, exactly); Adagrad gets
    ``initial_accumulator_value=0``, the nearest optax allows (its epsilon
    stays inside the root).
    """
    import optax

    schedule = functools.partial(learning_rate_at, hyper)
    if kind == "sgd":
        return optax.sgd(schedule, momentum=hyper["momentum"])
    if kind == "adagrad":
        return optax.adagrad(schedule, initial_accumulator_value=0.0, eps=hyper["epsilon"])
    if kind == "rmsprop":
        return optax.rmsprop(schedule, decay=hyper["rho"], eps=hyper["epsilon"],
                             eps_in_sqrt=False)
    if kind == "adam":
        return optax.adam(schedule, b1=hyper["beta_1"], b2=hyper["beta_2"],
                          eps=hyper["epsilon"])
    raise ValueError(f"optimizer must be one of {', '.join(DEFAULTS)}, got {kind!r}")


def _optax_run(kind, hyper, params, grads):
    """:func:`optax_optimizer` over every step of ``grads`` (traced: :func:`run_oracles`)."""
    import optax

    optimizer = optax_optimizer(kind, hyper)

    def step(carry, g_t):
        p, state = carry
        updates, state = optimizer.update(g_t, state, p)
        return (optax.apply_updates(p, updates), state), None

    (params, _), _ = jax.lax.scan(step, (params, optimizer.init(params)), grads)
    return params


@functools.partial(jax.jit, static_argnums=0)
def run_oracles(kind, hyper, params, grads):
    """Both oracles for ``kind`` over every step of ``grads``: the final params of the
    book's rule (``"book"``) and of :func:`optax_optimizer` (``"optax"``, the book's rule
    only where :func:`optax_coincides`).

    One program per optimizer and shapes (compiling is nearly all of its cost): the
    hyper-parameters are traced, so new values do not recompile.
    """
    return {"book": _book_run(kind, hyper, params, grads),
            "optax": _optax_run(kind, hyper, params, grads)}


def run_book(kind, hyper, params, grads):
    """The final params of the book's rule for ``kind`` (:func:`run_oracles`)."""
    return run_oracles(kind, hyper, params, grads)["book"]


def run_optax(kind, hyper, params, grads):
    """The final params of :func:`optax_optimizer` for ``kind`` (:func:`run_oracles`)."""
    return run_oracles(kind, hyper, params, grads)["optax"]


def run_manual(optimizer, params, grads):
    """The manual ``optimizer`` over every step of ``grads``, on Dense layers holding ``params``.

    ``params``: ``{layer name: {"weights": (n_in, n_out), "biases": (1, n_out)}}`` of
    NumPy arrays (copied, not changed); ``grads``: the same with a leading steps axis.
    Each step is the book's training loop: ``pre_update_params``, ``update_params`` of
    every layer in turn, ``post_update_params``. Returns the final params, as ``params``.
    """
    import manual

    layers = {}
    for name, p in params.items():
        layers[name] = manual.Layer_Dense(*np.shape(p["weights"]))
        layers[name].weights = np.array(p["weights"], copy=True)
        layers[name].biases = np.array(p["biases"], copy=True)
    steps = len(next(iter(grads.values()))["weights"])
    for t in range(steps):
        optimizer.pre_update_params()
        for name, layer in layers.items():
            layer.dweights, layer.dbiases = grads[name]["weights"][t], grads[name]["biases"][t]
            optimizer.update_params(layer)
        optimizer.post_update_params()
    return {name: {"weights": layer.weights, "biases": layer.biases}
            for name, layer in layers.items()}


#: Steps of every optimizer run in verify and the tests (a fixed length: one compilation).
STEPS = 25
#: The book network's two layer shapes: every optimizer run updates both, as its training
#: loop does (the rules are elementwise; the state is each layer's own).
LAYER_SHAPES = ((2, 64), (64, 3))


def random_hyperparameters(kind, rng):
    """Hyper-parameters for ``kind`` drawn from ``rng``; decay is sometimes 0."""
    draws = {
        "learning_rate": float(10 ** rng.uniform(-4, 0)),
        "decay": float(rng.choice([0.0, 1e-3, 0.1])),
        "momentum": float(rng.uniform(0, 0.99)),
        "epsilon": float(rng.choice([1e-7, 1e-3])),
        "rho": float(rng.uniform(0, 0.999)),
        "beta_1": float(rng.uniform(0, 0.99)),
        "beta_2": float(rng.uniform(0.9, 0.9999)),
    }
    return hyperparameters(kind, **{name: draws[name] for name in DEFAULTS[kind]})


def random_problem(rng, shapes=LAYER_SHAPES):
    """``(params, grads)`` of Dense layers ``dense1``, ``dense2``, ... of ``shapes`` (the
    book network's by default), each with :data:`STEPS` random gradients.

    Each step's gradient has its own scale (1e-4 to 10) and about a tenth of
    its entries exactly 0 (where epsilon decides Adagrad's and RMSprop's step).
    """
    def sequence(leaf_shape):
        scales = 10.0 ** rng.uniform(-4, 1, size=(STEPS, 1, 1))
        g = rng.normal(size=(STEPS, *leaf_shape)) * scales
        return np.where(rng.random(g.shape) < 0.1, 0.0, g)

    params, grads = {}, {}
    for i, (n_in, n_out) in enumerate(shapes, 1):
        params[f"dense{i}"] = {"weights": rng.normal(size=(n_in, n_out)),
                               "biases": rng.normal(size=(1, n_out))}
        grads[f"dense{i}"] = {"weights": sequence((n_in, n_out)),
                              "biases": sequence((1, n_out))}
    return params, grads
