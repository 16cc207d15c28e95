"""The seed's network, described once: Dense(n, H) -> ReLU -> Dense(H, C) -> softmax + CCE.

Built from the classes of any module that has the book's names: :mod:`manual`
or :mod:`reference.seed_notebook` (the seed's code as written). The bench times
its epoch, ``verify`` and the tests compare its gradients with JAX and with
finite differences. NumPy only.
"""

import dataclasses

import numpy as np

#: The network's parameters, in the order of the seed's layers.
LAYERS = ("dense1", "dense2")


@dataclasses.dataclass
class SeedNetwork:
    """The layers of the seed's Cell [31], and its forward and backward passes."""

    dense1: object
    activation1: object
    dense2: object
    loss_activation: object

    @classmethod
    def build(cls, module, n_inputs=2, hidden=64, classes=3, params=None, dtype=None):
        """The network from ``module``'s classes.

        ``params``: ``{"dense1": {"weights": ..., "biases": ...}, "dense2": ...}``
        to start from (copied); default the classes' own initialisation.
        ``dtype``: cast the parameters to it.
        """
        net = cls(module.Layer_Dense(n_inputs, hidden), module.Activation_ReLU(),
                  module.Layer_Dense(hidden, classes),
                  module.Activation_Softmax_Loss_CategoricalCrossentropy())
        for name in LAYERS:
            layer = getattr(net, name)
            for param in ("weights", "biases"):
                value = getattr(layer, param) if params is None else params[name][param]
                setattr(layer, param, np.array(value, dtype=dtype))
        return net

    def forward(self, X, y):
        """The mean loss of the fused softmax + CCE; sets every layer's ``output``."""
        self.dense1.forward(X)
        self.activation1.forward(self.dense1.output)
        self.dense2.forward(self.activation1.output)
        return self.loss_activation.forward(self.dense2.output, y)

    def accuracy(self, y):
        """The seed's accuracy: the argmax of the softmax output against the labels."""
        return np.mean(np.argmax(self.loss_activation.output, axis=1) == y)

    def backward(self, y):
        """Every layer's gradients, from the loss back (the forward must come first)."""
        self.loss_activation.backward(self.loss_activation.output, y)
        self.dense2.backward(self.loss_activation.dinputs)
        self.activation1.backward(self.dense2.dinputs)
        self.dense1.backward(self.activation1.dinputs)

    def gradients(self):
        """``{"dense1": {"weights": dweights, "biases": dbiases}, "dense2": ...}``."""
        return {name: {"weights": getattr(self, name).dweights,
                       "biases": getattr(self, name).dbiases} for name in LAYERS}
