"""Trainable layers, and dropout."""

import numpy as np

from manual._validate import as_batch, hyperparameter, require_forward, same_shape


class Layer_Dense:
    """Fully connected layer, ``output = inputs @ weights + biases``.

    Parameters
    ----------
    n_inputs : int
        Width of the inputs, ``n_in``.
    n_neurons : int
        Number of neurons, ``n_out``.
    weight_regularizer_l1, weight_regularizer_l2, bias_regularizer_l1, bias_regularizer_l2 : float
        Strengths (>= 0, default 0) of the penalties ``l1 * sum|W| + l2 * sum W**2``
        (and the same for the biases) that :meth:`Loss.regularization_loss`
        adds to the loss; ``backward`` adds their gradients,
        ``l1 * sign(W) + 2 * l2 * W``, with sign(0) = +1 (the book's ``dL1``,
        and ``jnp.abs``'s derivative at 0).

    Attributes
    ----------
    weights : ndarray, shape (n_in, n_out)
        ``0.01 * np.random.randn(n_in, n_out)``, as in the seed (stored
        "already transposed": one column per neuron).
    biases : ndarray, shape (1, n_out)
        Zeros.

    Notes
    -----
    The products use ``np.dot`` as the seed does, so that under
    ``nnfs.init()`` (which patches ``np.dot``) a training run reproduces the
    seed's numbers bit for bit.
    """

    def __init__(self, n_inputs, n_neurons, weight_regularizer_l1=0, weight_regularizer_l2=0,
                 bias_regularizer_l1=0, bias_regularizer_l2=0):
        for name, value in (("n_inputs", n_inputs), ("n_neurons", n_neurons)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        strengths = {"weight_regularizer_l1": weight_regularizer_l1,
                     "weight_regularizer_l2": weight_regularizer_l2,
                     "bias_regularizer_l1": bias_regularizer_l1,
                     "bias_regularizer_l2": bias_regularizer_l2}
        for name, value in strengths.items():
            setattr(self, name, hyperparameter(value, name, 0))
        self.weights = 0.01 * np.random.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))

    def forward(self, inputs):
        """Forward pass.

        Parameters
        ----------
        inputs : ndarray, shape (batch, n_in)

        Sets
        ----
        output : ndarray, shape (batch, n_out)
            ``inputs @ weights + biases``.
        """
        self.inputs = as_batch(inputs, "inputs", self.weights.shape[0], "n_inputs")
        self.output = np.dot(self.inputs, self.weights)
        self.output += self.biases  # in place: no second (batch, n_out) array

    def backward(self, dvalues):
        """Backward pass.

        Parameters
        ----------
        dvalues : ndarray, shape (batch, n_out)
            dL/dZ, the gradient of the loss with respect to ``output``.

        Sets
        ----
        dweights : ndarray, shape (n_in, n_out)
            ``dweights = inputs.T @ dvalues`` (+ the regularizers' gradients)
        dbiases : ndarray, shape (1, n_out)
            ``dbiases = sum(dvalues, axis=0, keepdims=True)`` (the seed's
            ``keepdims=0`` gives shape (n_out,), an erratum) (+ the regularizers').
        dinputs : ndarray, shape (batch, n_in)
            ``dinputs = dvalues @ weights.T``
        """
        require_forward(self)
        dvalues = same_shape(dvalues, self.output.shape)
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = dvalues.sum(axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)
        _add_penalty_gradient(self.dweights, self.weights, self.weight_regularizer_l1,
                              self.weight_regularizer_l2)
        _add_penalty_gradient(self.dbiases, self.biases, self.bias_regularizer_l1,
                              self.bias_regularizer_l2)


def _add_penalty_gradient(grad, param, l1, l2):
    """``grad += l1 * sign(param) + 2 * l2 * param`` in place, with sign(0) = +1.

    The gradient of ``l1 * sum|p| + l2 * sum p**2``; nothing to do (no copy)
    when both strengths are 0.
    """
    if l1 > 0:
        grad += l1 * np.where(param < 0, -1.0, 1.0)
    if l2 > 0:
        grad += 2 * l2 * param


class Layer_Dropout:
    """Inverted dropout: in training, each unit is kept with probability ``1 - rate``
    and scaled by ``1 / (1 - rate)``, so the expected output equals the input.

    Parameters
    ----------
    rate : float in [0, 1)
        The fraction of units dropped.
    rng : numpy.random.Generator, int or None
        Source of the masks: a Generator, a seed for one, or None for NumPy's
        global random state (``np.random.binomial``, as the book).
    """

    def __init__(self, rate, rng=None):
        self.rate = hyperparameter(rate, "rate", 0, 1)
        self.rng = rng if rng is None or isinstance(rng, np.random.Generator) \
            else np.random.default_rng(rng)

    def forward(self, inputs, training=True):
        """Forward pass.

        Parameters
        ----------
        inputs : ndarray, shape (batch, n)
        training : bool
            False: the identity (``mask`` all ones).

        Sets
        ----
        mask : ndarray, shape (batch, n), entries 0 or ``1 / (1 - rate)``
        output : ndarray, shape (batch, n), ``inputs * mask``
        """
        self.inputs = as_batch(inputs, "inputs")
        keep = 1 - self.rate
        if not training:
            self.mask = np.ones_like(self.inputs, dtype=np.result_type(self.inputs, 1.0))
        else:
            draw = np.random.binomial if self.rng is None else self.rng.binomial
            self.mask = draw(1, keep, size=self.inputs.shape) / keep
            self.mask = self.mask.astype(np.result_type(self.inputs, 1.0), copy=False)
        self.output = self.inputs * self.mask

    def backward(self, dvalues):
        """``dinputs = dvalues * mask`` (the mask of the last forward), shape (batch, n)."""
        require_forward(self)
        self.dinputs = same_shape(dvalues, self.inputs.shape) * self.mask
