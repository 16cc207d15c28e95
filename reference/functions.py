"""The seed's maths as pure JAX functions of arrays: no classes, no state.

Each function mirrors a class of :mod:`manual` and states the same kink
conventions, so that ``jax.vjp`` / ``jax.grad`` of it is the oracle for that
class's hand-written backward pass. Targets of classes are sparse integer
labels, except for the ``*_one_hot`` functions, which take one-hot rows.

Run in float64: call :func:`reference.enable_x64` (or set
``jax_enable_x64``) before any array exists.
"""

import jax
import jax.numpy as jnp

from manual import CLIP_MAX, CLIP_MIN


def dense(params, inputs):
    """``inputs @ weights + biases``: (batch, n_in) -> (batch, n_out).

    ``params`` is ``{"weights": (n_in, n_out), "biases": (1, n_out)}``.
    """
    return inputs @ params["weights"] + params["biases"]


def relu(inputs):
    """``max(0, x)``, gradient 0 at exactly 0 (``jax.nn.relu``'s convention).

    Not ``jnp.maximum(0, x)``, whose gradient at a tie is 0.5.
    """
    return jax.nn.relu(inputs)


def softmax(inputs):
    """Row-wise softmax, (batch, classes) -> (batch, classes)."""
    return jax.nn.softmax(inputs, axis=1)


def relu_layer(params, inputs):
    """:func:`relu` in the ``fn(params, inputs)`` form of a layer (``params`` unused)."""
    return relu(inputs)


def softmax_layer(params, inputs):
    """:func:`softmax` in the ``fn(params, inputs)`` form of a layer (``params`` unused)."""
    return softmax(inputs)


def clip(p, lo=CLIP_MIN, hi=CLIP_MAX):
    """``clip(p, lo, hi)`` with derivative 1 on ``[lo, hi]`` (bounds included), 0 outside.

    Not ``jnp.clip``, whose derivative at a bound is 0.5.
    """
    return jnp.where(p < lo, lo, jnp.where(p > hi, hi, p))


def true_class(values, labels):
    """``values[i, labels[i]]`` for every row: (batch, classes) -> (batch,)."""
    return jnp.take_along_axis(values, labels[:, None], axis=1)[:, 0]


def cce_sample_losses(y_pred, labels):
    """``-log(clip(y_pred[i, y_i]))``: (batch, classes), (batch,) -> (batch,)."""
    return -jnp.log(clip(true_class(y_pred, labels)))


def cce_loss(y_pred, labels):
    """Mean categorical cross-entropy with the seed's clip, a scalar."""
    return jnp.mean(cce_sample_losses(y_pred, labels))


def softmax_cce_loss(logits, labels):
    """Fused loss ``mean(logsumexp(z_i) - z_i[y_i])``, no clip, a scalar.

    Equal to ``cce_loss(softmax(z), y)`` wherever nothing is clipped.
    """
    return jnp.mean(jax.nn.logsumexp(logits, axis=1) - true_class(logits, labels))


def softmax_cce_loss_and_softmax(logits, labels):
    """``(softmax_cce_loss, softmax)``: for ``value_and_grad(..., has_aux=True)``."""
    return softmax_cce_loss(logits, labels), softmax(logits)


def cce_loss_one_hot(y_pred, y_one_hot):
    """Mean categorical cross-entropy of one-hot targets, in the book's form for them:
    ``-log(sum_j clip(y_pred[i, j]) * y_one_hot[i, j])``; equal to :func:`cce_loss`."""
    return jnp.mean(-jnp.log(jnp.sum(clip(y_pred) * y_one_hot, axis=1)))


def softmax_cce_loss_one_hot_and_softmax(logits, y_one_hot):
    """:func:`softmax_cce_loss_and_softmax` of one-hot targets:
    ``mean(logsumexp(z_i) - sum_j z_ij * y_one_hot[i, j])`` and the softmax."""
    loss = jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.sum(logits * y_one_hot, axis=1))
    return loss, softmax(logits)


def seed_softmax_cce_loss(logits, labels):
    """The seed's fused forward: ``cce_loss(softmax(z), y)``, clip included.

    Kept to document the erratum: its gradient is not ``(softmax - onehot) / N``
    where a true-class probability is clipped.
    """
    return cce_loss(softmax(logits), labels)


def network_logits(params, inputs):
    """The seed's network up to the logits: Dense, ReLU, Dense.

    ``params`` is ``{"dense1": {...}, "dense2": {...}}`` as for :func:`dense`.
    """
    return dense(params["dense2"], relu(dense(params["dense1"], inputs)))


def network_loss(params, inputs, labels):
    """The seed's network and fused loss: a scalar."""
    return softmax_cce_loss(network_logits(params, inputs), labels)


def sgd_update(params, grads, learning_rate):
    """One plain SGD step on a pytree: ``p - learning_rate * g`` for every leaf."""
    return jax.tree_util.tree_map(lambda p, g: p - learning_rate * g, params, grads)


def sigmoid_layer(params, inputs):
    """``jax.nn.sigmoid`` in the ``fn(params, inputs)`` form of a layer."""
    return jax.nn.sigmoid(inputs)


def linear_layer(params, inputs):
    """The identity in the ``fn(params, inputs)`` form of a layer."""
    return inputs


def abs_flat_at_zero(u):
    """``|u|`` with derivative 0 at ``u = 0`` (``jnp.abs`` has 1 there), as ``np.sign``."""
    return jnp.where(u > 0, u, jnp.where(u < 0, -u, 0.0))


def bce_loss(y_pred, y_true):
    """Mean binary cross-entropy, each sample averaged over its outputs, with the seed's clip."""
    p = clip(y_pred)
    return jnp.mean(jnp.mean(-(y_true * jnp.log(p) + (1 - y_true) * jnp.log(1 - p)), axis=-1))


def mse_loss(y_pred, y_true):
    """Mean over samples of ``mean_j (y - p)**2``."""
    return jnp.mean(jnp.mean((y_true - y_pred) ** 2, axis=-1))


def mae_loss(y_pred, y_true):
    """Mean over samples of ``mean_j |y - p|``, gradient 0 where ``p == y``."""
    return jnp.mean(jnp.mean(abs_flat_at_zero(y_true - y_pred), axis=-1))


def regularization_loss(params, l1=0.0, l2=0.0):
    """``l1 * sum|p| + l2 * sum p**2`` of one array (``jnp.abs``: derivative +1 at 0).

    A Dense layer's penalty is this of its weights plus this of its biases,
    each with its own strengths.
    """
    return l1 * jnp.sum(jnp.abs(params)) + l2 * jnp.sum(params * params)


def dense_penalty(params, strengths):
    """A Dense layer's penalty: ``regularization_loss`` of its weights plus of its biases.

    ``strengths`` is ``(l1 weights, l2 weights, l1 biases, l2 biases)``.
    """
    l1w, l2w, l1b, l2b = strengths
    return (regularization_loss(params["weights"], l1w, l2w)
            + regularization_loss(params["biases"], l1b, l2b))


def dense_and_penalty(params, inputs):
    """A Dense layer's output and its penalty: ``(dense(params, inputs),
    dense_penalty(params, params["strengths"]))``.

    The VJP with the cotangent ``(dvalues, 1)`` is what a regularized layer's
    ``backward`` sets: the data term plus the penalty's gradient. The four
    strengths are an array in ``params`` (its gradient unused), so that every
    strength, 0 included, shares one compiled program per shape.
    """
    return dense(params, inputs), dense_penalty(params, params["strengths"])


def dropout_layer(params, inputs):
    """Dropout with a fixed mask: ``inputs * params["mask"]`` (the mask already scaled)."""
    return inputs * params["mask"]
