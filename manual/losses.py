"""Losses, and the fused softmax + categorical cross-entropy."""

import functools

import numpy as np

from manual._validate import (
    as_float_batch,
    probabilities,
    row_index,
    sparse_labels,
    targets_like,
)

#: What a binary loss given logits is told.
_SIGMOID = ": logits? apply Activation_Sigmoid first"
#: What a categorical loss given logits is told.
_LOGITS = (": logits? Activation_Softmax_Loss_CategoricalCrossentropy takes logits, or apply "
           "Activation_Softmax first")

#: Predictions are clipped to ``[CLIP_MIN, CLIP_MAX]`` before the log, as in the seed.
CLIP_MIN = 1e-7
CLIP_MAX = 1 - 1e-7


class Loss:
    """Base class: ``calculate`` averages the sample losses of ``forward``."""

    def calculate(self, output, y):
        """Mean loss over the batch.

        Parameters
        ----------
        output : ndarray, shape (batch, classes)
            Predictions.
        y : ndarray, shape (batch,) or (batch, classes)
            Targets.

        Returns
        -------
        float scalar of the predictions' dtype
            ``mean(forward(output, y))``.
        """
        return np.mean(self.forward(output, y))

    def regularization_loss(self, layer):
        """The penalties of a layer's regularizers (0 for a layer without them).

        ``l1w * sum|W| + l2w * sum W**2 + l1b * sum|b| + l2b * sum b**2`` with
        the strengths of :class:`Layer_Dense`.
        """
        total = 0.0
        for param, kind in (("weights", "weight"), ("biases", "bias")):
            l1 = getattr(layer, f"{kind}_regularizer_l1", 0)
            l2 = getattr(layer, f"{kind}_regularizer_l2", 0)
            values = getattr(layer, param)
            if l1 > 0:
                total += l1 * np.sum(np.abs(values))
            if l2 > 0:
                total += l2 * np.sum(values * values)
        return total


class Loss_CategoricalCrossentropy(Loss):
    """Categorical cross-entropy, ``L_i = -log(clip(y_pred[i, y_i], 1e-7, 1 - 1e-7))``.

    Targets are sparse labels, shape (batch,) with integer values in
    ``[0, classes)``, or one-hot rows, shape (batch, classes); both give
    identical results.

    Clip convention: ``clip(p)`` has derivative 1 for ``1e-7 <= p <= 1 - 1e-7``
    (bounds included) and 0 strictly outside, where the clipped loss is flat.

    Predictions must lie in [0, 1]; anything else (logits, say) is a
    ``ValueError``. Rows need not sum to 1: the loss and its gradient read only
    the true class's entry, and are defined for any value in [0, 1].
    """

    def forward(self, y_pred, y_true):
        """Sample losses.

        Parameters
        ----------
        y_pred : ndarray, shape (batch, classes)
            Predicted probabilities.
        y_true : ndarray, shape (batch,) or (batch, classes)
            Sparse or one-hot targets.

        Returns
        -------
        ndarray, shape (batch,), the dtype of ``y_pred``
            ``-log(clip(y_pred[i, y_i]))``.
        """
        y_pred = probabilities(as_float_batch(y_pred, "y_pred", width_name="classes"), "y_pred",
                               _LOGITS)
        labels = sparse_labels(y_true, *y_pred.shape)
        confidences = y_pred[row_index(len(y_pred)), labels]
        return -np.log(np.clip(confidences, CLIP_MIN, CLIP_MAX))

    def backward(self, dvalues, y_true):
        """Gradient of ``calculate(dvalues, y_true)`` with respect to the predictions.

        Parameters
        ----------
        dvalues : ndarray, shape (batch, classes)
            The predictions ``y_pred`` (the seed's name).
        y_true : ndarray, shape (batch,) or (batch, classes)

        Sets
        ----
        dinputs : ndarray, shape (batch, classes), the dtype of ``dvalues``
            ``-1 / (N * y_pred[i, y_i])`` at each sample's true class where
            ``1e-7 <= y_pred[i, y_i] <= 1 - 1e-7``, 0 everywhere else. The
            seed's ``-y_true / dvalues / N`` ignores the clip: it is wrong
            where a prediction is clipped and divides by zero at 0.
        """
        dvalues = probabilities(as_float_batch(dvalues, "dvalues", width_name="classes"),
                                "dvalues (the predictions)", _LOGITS)
        samples, classes = dvalues.shape
        labels = sparse_labels(y_true, samples, classes)
        rows = row_index(samples)
        confidences = dvalues[rows, labels]
        inside = (confidences >= CLIP_MIN) & (confidences <= CLIP_MAX)
        self.dinputs = np.zeros_like(dvalues)
        self.dinputs[rows, labels] = np.where(
            inside, -1 / (samples * np.clip(confidences, CLIP_MIN, CLIP_MAX)), 0
        )


#: The seed's spelling; the same class object.
Loss_CategoricalCrossEntropy = Loss_CategoricalCrossentropy


class Activation_Softmax_Loss_CategoricalCrossentropy:
    """Softmax followed by categorical cross-entropy, with the short gradient.

    The loss is computed from the logits ``z`` as
    ``L = mean(logsumexp(z_i) - z_i[y_i])``: this is ``-log(softmax(z)[y])``
    without the clip, exact and finite for any finite logits. Its gradient
    with respect to ``z`` is exactly ``(softmax(z) - onehot(y)) / N``, which
    ``backward`` computes. (The seed computes the loss *with* the clip, whose
    gradient is not ``(softmax - onehot) / N`` for a sample whose true-class
    probability is below 1e-7: there the clipped loss is flat.)

    Attributes
    ----------
    loss : Loss_CategoricalCrossentropy
        Kept as in the seed (the book's later chapters call
        ``loss.regularization_loss`` through it).
    output : ndarray, shape (batch, classes)
        The softmax probabilities, set by ``forward``.
    """

    def __init__(self):
        self.loss = Loss_CategoricalCrossentropy()

    def forward(self, inputs, y_true):
        """Softmax and mean loss.

        Parameters
        ----------
        inputs : ndarray, shape (batch, classes)
            Logits ``z``.
        y_true : ndarray, shape (batch,) or (batch, classes)
            Sparse or one-hot targets.

        Returns
        -------
        float scalar of the logits' dtype
            ``mean(logsumexp(z_i) - z_i[y_i])``.

        Sets
        ----
        output : ndarray, shape (batch, classes), softmax(z).
        """
        z = as_float_batch(inputs, "inputs", width_name="classes")
        labels = sparse_labels(y_true, *z.shape)
        # softmax on the (classes, batch) view: the same values as row by row, half the time
        # (docs/benchmark.md); the max and the sum run over the classes, column by column
        zt = z.T
        shifted = zt - functools.reduce(np.maximum, zt)
        exp_values = np.exp(shifted)
        sums = functools.reduce(np.add, exp_values)
        self.output = (exp_values / sums).T
        sample_losses = np.log(sums) - shifted[labels, row_index(len(z))]
        return sample_losses.mean()

    def backward(self, dvalues, y_true):
        """Gradient of the mean loss with respect to the logits.

        Parameters
        ----------
        dvalues : ndarray, shape (batch, classes)
            The softmax output ``s`` (``self.output``), as in the seed.
        y_true : ndarray, shape (batch,) or (batch, classes)

        Sets
        ----
        dinputs : ndarray, shape (batch, classes)
            ``dinputs = (s - onehot(y_true)) / N``
        """
        dvalues = as_float_batch(dvalues, "dvalues", width_name="classes")
        samples, classes = dvalues.shape
        labels = sparse_labels(y_true, samples, classes)
        self.dinputs = dvalues.copy()
        self.dinputs[row_index(samples), labels] -= 1
        self.dinputs /= samples


def _regression_inputs(dvalues, y_true, **target_range):
    """``(predictions, targets, samples, outputs)`` for the losses of regression targets."""
    dvalues = as_float_batch(dvalues, "y_pred", width_name="outputs")
    y = targets_like(y_true, dvalues.shape, **target_range)
    return dvalues, y, *dvalues.shape


class Loss_BinaryCrossentropy(Loss):
    """Binary cross-entropy per output, averaged over the outputs of a sample.

    ``L_i = mean_j -(y_ij log(clip(p_ij)) + (1 - y_ij) log(1 - clip(p_ij)))``
    with the clip of :class:`Loss_CategoricalCrossentropy` (``[1e-7, 1 - 1e-7]``,
    derivative 1 on the bounds, 0 strictly outside). Predictions and targets
    in [0, 1] (else ``ValueError``), shape (batch, outputs).
    """

    def forward(self, y_pred, y_true):
        """Sample losses, shape (batch,), from predictions and targets of shape (batch, outputs)."""
        p, y, _, _ = _regression_inputs(y_pred, y_true, low=0, high=1)
        p = np.clip(probabilities(p, "y_pred", _SIGMOID), CLIP_MIN, CLIP_MAX)
        return np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), axis=-1)

    def backward(self, dvalues, y_true):
        """Gradient of ``calculate`` with respect to the predictions.

        Sets ``dinputs``, shape (batch, outputs):
        ``-(y / p - (1 - y) / (1 - p)) / outputs / N`` where ``p`` lies in the clip
        range, 0 where it is clipped (the book's formula ignores the clip there).
        """
        p, y, samples, outputs = _regression_inputs(dvalues, y_true, low=0, high=1)
        probabilities(p, "dvalues (the predictions)", _SIGMOID)
        inside = (p >= CLIP_MIN) & (p <= CLIP_MAX)
        pc = np.clip(p, CLIP_MIN, CLIP_MAX)
        self.dinputs = np.where(inside, -(y / pc - (1 - y) / (1 - pc)), 0) / (outputs * samples)


class Loss_MeanSquaredError(Loss):
    """``L_i = mean_j (y_ij - p_ij)**2``, targets of shape (batch, outputs)."""

    def forward(self, y_pred, y_true):
        """Sample losses, shape (batch,)."""
        p, y, _, _ = _regression_inputs(y_pred, y_true)
        return np.mean((y - p) ** 2, axis=-1)

    def backward(self, dvalues, y_true):
        """Sets ``dinputs = -2 (y - p) / outputs / N``, shape (batch, outputs)."""
        p, y, samples, outputs = _regression_inputs(dvalues, y_true)
        self.dinputs = -2 * (y - p) / (outputs * samples)


class Loss_MeanAbsoluteError(Loss):
    """``L_i = mean_j |y_ij - p_ij|``, targets of shape (batch, outputs).

    Kink convention: the gradient is 0 where ``p == y`` (``np.sign(0) = 0``;
    ``jnp.abs`` would give -1 there).
    """

    def forward(self, y_pred, y_true):
        """Sample losses, shape (batch,)."""
        p, y, _, _ = _regression_inputs(y_pred, y_true)
        return np.mean(np.abs(y - p), axis=-1)

    def backward(self, dvalues, y_true):
        """Sets ``dinputs = sign(p - y) / outputs / N``, shape (batch, outputs).

        The book has ``sign(y - p)``: the negative of the gradient (Errata).
        """
        p, y, samples, outputs = _regression_inputs(dvalues, y_true)
        self.dinputs = np.sign(p - y) / (outputs * samples)
