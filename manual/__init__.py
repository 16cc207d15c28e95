"""The seed notebook's network with hand-written NumPy backward passes.

NumPy only: this package never imports JAX. Every class follows the book's
contract: ``forward(inputs)`` sets ``.output``; ``backward(dvalues)`` sets
``.dinputs`` and, for layers with parameters, ``.dweights`` / ``.dbiases`` of
exactly the parameters' shapes.
"""

from manual.activations import (
    Activation_Linear,
    Activation_ReLU,
    Activation_Sigmoid,
    Activation_Softmax,
)
from manual.layers import Layer_Dense, Layer_Dropout
from manual.losses import (
    CLIP_MAX,
    CLIP_MIN,
    Activation_Softmax_Loss_CategoricalCrossentropy,
    Loss,
    Loss_BinaryCrossentropy,
    Loss_CategoricalCrossEntropy,
    Loss_CategoricalCrossentropy,
    Loss_MeanAbsoluteError,
    Loss_MeanSquaredError,
)
from manual.optimizers import (
    Optimizer_Adagrad,
    Optimizer_Adam,
    Optimizer_RMSprop,
    Optimizer_SGD,
)

__all__ = [
    "Activation_Linear",
    "Activation_ReLU",
    "Activation_Sigmoid",
    "Activation_Softmax",
    "Activation_Softmax_Loss_CategoricalCrossentropy",
    "CLIP_MAX",
    "CLIP_MIN",
    "Layer_Dense",
    "Layer_Dropout",
    "Loss",
    "Loss_BinaryCrossentropy",
    "Loss_CategoricalCrossEntropy",
    "Loss_CategoricalCrossentropy",
    "Loss_MeanAbsoluteError",
    "Loss_MeanSquaredError",
    "Optimizer_Adagrad",
    "Optimizer_Adam",
    "Optimizer_RMSprop",
    "Optimizer_SGD",
]
