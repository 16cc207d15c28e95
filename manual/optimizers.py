"""Optimizers."""

import numbers

import numpy as np


class Optimizer_SGD:
    """Plain stochastic gradient descent, ``w <- w - learning_rate * dw``.

    Parameters
    ----------
    learning_rate : float, default 0.5
        The seed's default (the book's is 1.0). Must be positive and finite.
    """

    def __init__(self, learning_rate=0.5):
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
            raise TypeError(
                f"learning_rate must be a real number, got {type(learning_rate).__name__}"
            )
        if not (np.isfinite(learning_rate) and learning_rate > 0):
            raise ValueError(f"learning_rate must be positive and finite, got {learning_rate}")
        self.learning_rate = learning_rate

    def update_params(self, layer):
        """Take one step on a layer's parameters, in place.

        Parameters
        ----------
        layer : Layer_Dense (or any object with weights/biases and their gradients)
            ``weights`` (n_in, n_out) and ``biases`` (1, n_out), with
            ``dweights`` and ``dbiases`` of exactly those shapes (set by
            ``backward``).

        Updates
        -------
        ``weights += -learning_rate * dweights``
        ``biases += -learning_rate * dbiases``
        """
        for name in ("weights", "biases"):
            grad = getattr(layer, "d" + name, None)
            if grad is None:
                raise RuntimeError(
                    f"{type(layer).__name__} has no d{name}: call backward() before update_params()"
                )
            param = getattr(layer, name)
            if np.shape(grad) != param.shape:
                raise ValueError(
                    f"d{name} must have the shape of {name}, {param.shape}, got {np.shape(grad)}"
                )
        layer.weights += -self.learning_rate * layer.dweights
        layer.biases += -self.learning_rate * layer.dbiases
