"""Bad input gets a clear ValueError/TypeError, never an IndexError or a silent answer."""

import numpy as np
import pytest

import manual


def _fitted(layer, inputs):
    layer.forward(inputs)
    return layer


X = np.ones((4, 3))
P = np.full((4, 3), 1 / 3)
Y = np.array([0, 1, 2, 1])


def _cce_forward(y_pred, y):
    return manual.Loss_CategoricalCrossentropy().calculate(y_pred, y)


def _cce_backward(y_pred, y):
    return manual.Loss_CategoricalCrossentropy().backward(y_pred, y)


def _fused_forward(z, y):
    return manual.Activation_Softmax_Loss_CategoricalCrossentropy().forward(z, y)


def _fused_backward(s, y):
    return manual.Activation_Softmax_Loss_CategoricalCrossentropy().backward(s, y)


LABEL_USERS = [_cce_forward, _cce_backward, _fused_forward, _fused_backward]

BAD_LABELS = [
    (np.array([0, 1, 3, 1]), ValueError, r"labels must lie in \[0, 2\].*got a label of 3"),
    (np.array([0, 1, -1, 1]), ValueError, r"labels must lie in \[0, 2\].*got a label of -1"),
    (np.array([0.0, 1.0, 2.0, 1.0]), TypeError, "integer dtype, got dtype float64"),
    (np.array([0.5, 1, 2, 1]), TypeError, "integer dtype"),
    (np.array(["a", "b", "c", "d"]), TypeError, "integer dtype"),
    (np.array([0, 1, 2]), ValueError, "expected 4 labels, got 3"),
    (np.eye(4)[[0, 1, 2, 1]], ValueError, r"shape \(batch, classes\) = \(4, 3\), got \(4, 4\)"),
    (np.eye(2)[[0, 1, 1, 1]], ValueError, r"shape \(batch, classes\) = \(4, 3\), got \(4, 2\)"),
    (np.full((4, 3), 0.5), ValueError, "exactly one 1 per row"),
    (np.zeros((4, 3)), ValueError, "exactly one 1 per row"),
    (np.zeros((4, 3, 1), dtype=int), ValueError, r"got an array of shape \(4, 3, 1\)"),
    (np.int64(1), ValueError, r"got an array of shape \(\)"),
]


@pytest.mark.parametrize("use", LABEL_USERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("labels, error, message", BAD_LABELS)
def test_bad_labels(use, labels, error, message):
    with pytest.raises(error, match=message):
        use(P, labels)


BAD_BATCHES = [
    (np.ones(3), ValueError, r"2-D batch.*got an array of shape \(3,\)"),
    (np.ones((2, 3, 1)), ValueError, r"2-D batch.*shape \(2, 3, 1\)"),
    (np.ones((0, 3)), ValueError, "at least one sample"),
    (np.array([["a", "b", "c"]]), TypeError, "real numeric array"),
    (np.ones((2, 3), dtype=complex), TypeError, "real numeric array"),
    ([[1, 2], [3]], ValueError, "inhomogeneous"),  # ragged: NumPy itself refuses
]


@pytest.mark.parametrize("make", [
    lambda: manual.Layer_Dense(3, 2), manual.Activation_ReLU, manual.Activation_Softmax,
], ids=["Layer_Dense", "Activation_ReLU", "Activation_Softmax"])
@pytest.mark.parametrize("inputs, error, message", BAD_BATCHES)
def test_bad_inputs(make, inputs, error, message):
    with pytest.raises(error, match=message):
        make().forward(inputs)


@pytest.mark.parametrize("use", LABEL_USERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("inputs, error, message", BAD_BATCHES[:5])
def test_bad_predictions(use, inputs, error, message):
    with pytest.raises(error, match=message):
        use(inputs, np.array([0]))


def test_dense_input_width():
    with pytest.raises(ValueError, match=r"n_inputs 3 \(shape \(batch, 3\)\), got shape \(4, 2\)"):
        manual.Layer_Dense(3, 5).forward(np.ones((4, 2)))


@pytest.mark.parametrize("make, n_out", [
    (lambda: manual.Layer_Dense(3, 5), 5),
    (manual.Activation_ReLU, 3),
    (manual.Activation_Softmax, 3),
], ids=["Layer_Dense", "Activation_ReLU", "Activation_Softmax"])
@pytest.mark.parametrize("delta", [(0, 1), (1, 0), (-1, 0)])
def test_dvalues_must_have_the_output_shape(make, n_out, delta):
    layer = _fitted(make(), X)
    shape = (4 + delta[0], n_out + delta[1])
    with pytest.raises(ValueError, match=rf"shape of the forward output, \(4, {n_out}\), "
                                         rf"got \({shape[0]}, {shape[1]}\)"):
        layer.backward(np.ones(shape))
    with pytest.raises(ValueError, match="shape of the forward output"):
        layer.backward(np.ones(4 * n_out))  # flat: never broadcast


@pytest.mark.parametrize("make", [
    lambda: manual.Layer_Dense(3, 2), manual.Activation_ReLU, manual.Activation_Softmax,
], ids=["Layer_Dense", "Activation_ReLU", "Activation_Softmax"])
def test_backward_before_forward(make):
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        make().backward(np.ones((4, 2)))


def test_minus_one_never_wraps_to_the_last_class():
    with pytest.raises(ValueError, match="-1"):
        _cce_forward(np.array([[0.1, 0.9]]), np.array([-1]))


def _bce(method):
    def use(y_pred):
        loss = manual.Loss_BinaryCrossentropy()
        y = np.zeros_like(np.asarray(y_pred, dtype=float))
        return loss.calculate(y_pred, y) if method == "forward" else loss.backward(y_pred, y)
    use.__name__ = f"bce_{method}"
    return use


def _cce(method):
    def use(y_pred):
        loss = manual.Loss_CategoricalCrossentropy()
        y = np.zeros(len(y_pred), dtype=int)
        return loss.calculate(y_pred, y) if method == "forward" else loss.backward(y_pred, y)
    use.__name__ = f"cce_{method}"
    return use


PROBABILITY_USERS = [_cce("forward"), _cce("backward"), _bce("forward"), _bce("backward")]


@pytest.mark.parametrize("use", PROBABILITY_USERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("y_pred, message", [
    ([[2.0, 5.0], [3.0, -1.0]], "got values in [-1, 5]: logits?"),   # logits, not probabilities
    ([[0.5, 1.0 + 1e-12]], "got values in [0.5, 1]"),
    ([[-1e-300, 0.5]], "got values in [-1e-300, 0.5]"),
    ([[np.nan, 0.5]], "got NaN"),
])
def test_losses_of_probabilities_reject_anything_else(use, y_pred, message):
    with pytest.raises(ValueError, match="must hold probabilities in \\[0, 1\\]") as info:
        use(np.array(y_pred))
    assert message in str(info.value)


@pytest.mark.parametrize("use", PROBABILITY_USERS, ids=lambda f: f.__name__)
def test_the_line_is_0_and_1_included_and_rows_need_not_sum_to_1(use):
    # the clip points 0 and 1 are probabilities; an unnormalized row is accepted (only the
    # true class's entry enters the loss and its gradient)
    use(np.array([[0.0, 1.0], [0.2, 0.3]]))
