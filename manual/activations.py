"""Activation functions (no parameters)."""

import numpy as np

from manual._validate import as_float_batch, require_forward, same_shape


class Activation_ReLU:
    """Rectified linear unit, ``output = max(0, inputs)`` elementwise.

    Kink convention: the gradient at exactly 0 is 0 (the seed's
    ``dinputs[inputs <= 0] = 0``, and ``jax.nn.relu``'s).
    """

    def forward(self, inputs):
        """Forward pass.

        Parameters
        ----------
        inputs : ndarray, shape (batch, n)

        Sets
        ----
        output : ndarray, shape (batch, n), the dtype of ``inputs``
            ``max(0, inputs)``.
        """
        self.inputs = as_float_batch(inputs, "inputs")
        self.output = np.maximum(0, self.inputs)

    def backward(self, dvalues):
        """Backward pass.

        Parameters
        ----------
        dvalues : ndarray, shape (batch, n)
            dL/d(output).

        Sets
        ----
        dinputs : ndarray, shape (batch, n)
            ``dinputs = dvalues * (inputs > 0)``: dvalues where the input is
            positive, 0 where it is <= 0 (so 0 at the kink).
        """
        require_forward(self)
        dvalues = same_shape(dvalues, self.inputs.shape)
        # the mask as floats: a float-by-bool multiply casts inside NumPy's loop (slower)
        self.dinputs = dvalues * (self.inputs > 0).astype(dvalues.dtype)


class Activation_Softmax:
    """Row-wise softmax, ``output[i, j] = exp(z[i, j]) / sum_k exp(z[i, k])``.

    The forward pass subtracts each row's maximum first, so logits of any
    finite size give a finite output.
    """

    def forward(self, inputs):
        """Forward pass.

        Parameters
        ----------
        inputs : ndarray, shape (batch, classes)
            Logits ``z``.

        Sets
        ----
        output : ndarray, shape (batch, classes), the dtype of ``inputs``
            Probabilities; each row sums to 1.
        """
        self.inputs = as_float_batch(inputs, "inputs")
        exp_values = np.exp(self.inputs - self.inputs.max(axis=1, keepdims=True))
        self.output = exp_values / exp_values.sum(axis=1, keepdims=True)

    def backward(self, dvalues):
        """Backward pass (the seed has none).

        The Jacobian of one row is ``J = diag(s) - s s^T`` with ``s`` the
        softmax output, so the vector-Jacobian product for a row is
        ``dvalues @ J = s * (dvalues - dvalues . s)``, done for all rows at once.

        Parameters
        ----------
        dvalues : ndarray, shape (batch, classes)
            dL/d(output).

        Sets
        ----
        dinputs : ndarray, shape (batch, classes)
            ``dinputs = output * (dvalues - sum(dvalues * output, axis=1, keepdims=True))``
        """
        require_forward(self, "output")
        dvalues = same_shape(dvalues, self.output.shape)
        s = self.output
        self.dinputs = s * (dvalues - (dvalues * s).sum(axis=1, keepdims=True))


class Activation_Sigmoid:
    """Logistic sigmoid, ``output = 1 / (1 + exp(-inputs))`` elementwise.

    Computed as ``exp(-logaddexp(0, -x))``: no overflow for any finite input,
    and accurate in both tails (``sigmoid(-40) = 4.2e-18``, not 0).
    """

    def forward(self, inputs):
        """Forward pass.

        Parameters
        ----------
        inputs : ndarray, shape (batch, n)

        Sets
        ----
        output : ndarray, shape (batch, n), the dtype of ``inputs``
        """
        self.inputs = as_float_batch(inputs, "inputs")
        self.output = np.exp(-np.logaddexp(0, -self.inputs))

    def backward(self, dvalues):
        """Backward pass.

        Parameters
        ----------
        dvalues : ndarray, shape (batch, n)

        Sets
        ----
        dinputs : ndarray, shape (batch, n)
            ``dinputs = dvalues * output * (1 - output)``
        """
        require_forward(self, "output")
        dvalues = same_shape(dvalues, self.output.shape)
        self.dinputs = dvalues * (1 - self.output) * self.output


class Activation_Linear:
    """The identity, ``output = inputs`` (the book's output layer for regression)."""

    def forward(self, inputs):
        """``output = inputs``, shape (batch, n) (the same array, as in the book)."""
        self.inputs = as_float_batch(inputs, "inputs")
        self.output = self.inputs

    def backward(self, dvalues):
        """``dinputs = dvalues`` (a copy), shape (batch, n)."""
        require_forward(self)
        self.dinputs = same_shape(dvalues, self.inputs.shape).copy()
