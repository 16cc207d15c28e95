"""float32 in, float32 out: every layer, activation and loss of manual/ keeps the dtype.

One property, parametrized over the classes (the optimizers' float32 parameters are
checked with their rules, in test_manual_optimizers.py).
"""

import numpy as np
import pytest
from helpers import assert_array

import manual

F32 = np.float32
X = np.array([[-1.0, 0.0, 2.0], [0.5, -0.25, 1.5]], dtype=F32)
DVALUES = np.array([[0.3, -0.2, 0.1], [-0.4, 0.6, 0.2]], dtype=F32)
PROBABILITIES = np.array([[0.2, 0.7, 0.1], [0.3, 0.3, 0.4]], dtype=F32)


def _dense():
    layer = manual.Layer_Dense(3, 3, weight_regularizer_l1=1e-3, weight_regularizer_l2=1e-3)
    layer.weights = layer.weights.astype(F32)
    layer.biases = layer.biases.astype(F32)
    return layer


LAYERS = {
    "Layer_Dense": _dense,
    "Layer_Dropout": lambda: manual.Layer_Dropout(0.5, rng=0),
    "Activation_ReLU": manual.Activation_ReLU,
    "Activation_Softmax": manual.Activation_Softmax,
    "Activation_Sigmoid": manual.Activation_Sigmoid,
    "Activation_Linear": manual.Activation_Linear,
}
LOSSES = {
    "Loss_CategoricalCrossentropy": (manual.Loss_CategoricalCrossentropy, PROBABILITIES,
                                     np.array([1, 2])),
    "Loss_BinaryCrossentropy": (manual.Loss_BinaryCrossentropy, PROBABILITIES,
                                np.array([[0, 1, 0], [1, 0, 1]], dtype=F32)),
    "Loss_MeanSquaredError": (manual.Loss_MeanSquaredError, X, DVALUES),
    "Loss_MeanAbsoluteError": (manual.Loss_MeanAbsoluteError, X, DVALUES),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layers_keep_float32(name):
    layer = LAYERS[name]()
    layer.forward(X)
    layer.backward(DVALUES)
    assert_array(layer.output, X.shape, F32)
    assert_array(layer.dinputs, X.shape, F32)
    for param in ("weights", "biases"):
        if hasattr(layer, param):
            assert_array(getattr(layer, "d" + param), getattr(layer, param).shape, F32)


@pytest.mark.parametrize("name", LOSSES)
def test_losses_keep_float32(name):
    cls, y_pred, y_true = LOSSES[name]
    loss = cls()
    assert loss.calculate(y_pred, y_true).dtype == F32
    loss.backward(y_pred, y_true)
    assert_array(loss.dinputs, y_pred.shape, F32)


def test_the_fused_loss_keeps_float32():
    fused = manual.Activation_Softmax_Loss_CategoricalCrossentropy()
    value = fused.forward(X, np.array([0, 2]))
    fused.backward(fused.output, np.array([0, 2]))
    assert value.dtype == F32
    assert_array(fused.output, X.shape, F32)
    assert_array(fused.dinputs, X.shape, F32)
