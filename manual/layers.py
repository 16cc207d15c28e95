"""Trainable layers."""

import numpy as np

from manual._validate import as_batch, require_forward, same_shape


class Layer_Dense:
    """Fully connected layer, ``output = inputs @ weights + biases``.

    Parameters
    ----------
    n_inputs : int
        Width of the inputs, ``n_in``.
    n_neurons : int
        Number of neurons, ``n_out``.

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

    def __init__(self, n_inputs, n_neurons):
        for name, value in (("n_inputs", n_inputs), ("n_neurons", n_neurons)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
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
            ``dweights = inputs.T @ dvalues``
        dbiases : ndarray, shape (1, n_out)
            ``dbiases = sum(dvalues, axis=0, keepdims=True)`` (the seed's
            ``keepdims=0`` gives shape (n_out,), an erratum).
        dinputs : ndarray, shape (batch, n_in)
            ``dinputs = dvalues @ weights.T``
        """
        require_forward(self)
        dvalues = same_shape(dvalues, self.output.shape)
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = dvalues.sum(axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)
