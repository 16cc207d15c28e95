"""Layers and losses written the way the book's later chapters write them (our own code).

What the checker must take as it is, with no adapter:

- ``forward(inputs, training)`` on every layer;
- a ``Loss`` base whose ``calculate`` keeps running sums (``new_pass()`` resets
  them), so that calling ``calculate`` before ``new_pass`` fails;
- L1/L2 strengths on the dense layer, their gradients added inside ``backward``;
- dropout drawing a fresh mask from ``np.random.binomial`` on every forward;
- parameters under other names (``W``, ``b``, ``alpha``) and in dicts.

Each class is correct; :data:`BUGS` lists one-line bugs planted in them.
"""

import numpy as np


class Layer_Dense:
    def __init__(self, n_inputs, n_neurons, weight_regularizer_l1=0.0,
                 weight_regularizer_l2=0.0, bias_regularizer_l1=0.0, bias_regularizer_l2=0.0):
        self.weights = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.biases = 0.1 * np.random.randn(1, n_neurons)
        self.weight_regularizer_l1 = weight_regularizer_l1
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l1 = bias_regularizer_l1
        self.bias_regularizer_l2 = bias_regularizer_l2

    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        if self.weight_regularizer_l1 > 0:
            sign = np.ones_like(self.weights)
            sign[self.weights < 0] = -1
            self.dweights += self.weight_regularizer_l1 * sign
        if self.weight_regularizer_l2 > 0:
            self.dweights += 2 * self.weight_regularizer_l2 * self.weights
        if self.bias_regularizer_l1 > 0:
            sign = np.ones_like(self.biases)
            sign[self.biases < 0] = -1
            self.dbiases += self.bias_regularizer_l1 * sign
        if self.bias_regularizer_l2 > 0:
            self.dbiases += 2 * self.bias_regularizer_l2 * self.biases
        self.dinputs = np.dot(dvalues, self.weights.T)


class Layer_Dropout:
    def __init__(self, rate):
        self.rate = 1 - rate  # the keep probability, as the book stores it

    def forward(self, inputs, training):
        self.inputs = inputs
        if not training:
            self.output = inputs.copy()
            return
        self.binary_mask = np.random.binomial(1, self.rate, size=inputs.shape) / self.rate
        self.output = inputs * self.binary_mask

    def backward(self, dvalues):
        self.dinputs = dvalues * self.binary_mask


class Layer_DropoutGenerator(Layer_Dropout):
    """Dropout drawing from a Generator it holds (a seed in its constructor)."""

    def __init__(self, rate, seed=0):
        super().__init__(rate)
        self.rng = np.random.default_rng(seed)

    def forward(self, inputs, training):
        self.inputs = inputs
        self.binary_mask = self.rng.binomial(1, self.rate, size=inputs.shape) / self.rate
        self.output = inputs * self.binary_mask


class Activation_ReLU:
    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = np.where(self.inputs > 0, dvalues, 0.0)


class Activation_Softmax:
    def forward(self, inputs, training):
        self.inputs = inputs
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)

    def backward(self, dvalues):
        # s * (dvalues - <dvalues, s>) row by row: the Jacobian-vector product
        inner = np.sum(dvalues * self.output, axis=1, keepdims=True)
        self.dinputs = self.output * (dvalues - inner)


class Activation_Sigmoid:
    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = 1 / (1 + np.exp(-inputs))

    def backward(self, dvalues):
        self.dinputs = dvalues * (1 - self.output) * self.output


class Activation_Linear:
    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = inputs

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()


class Loss:
    """``calculate`` accumulates over a pass, as the book's last chapters do."""

    def calculate(self, output, y):
        sample_losses = self.forward(output, y)
        self.accumulated_sum += np.sum(sample_losses)
        self.accumulated_count += len(sample_losses)
        return np.mean(sample_losses)

    def new_pass(self):
        self.accumulated_sum = 0
        self.accumulated_count = 0


class Loss_CategoricalCrossentropy(Loss):
    def forward(self, y_pred, y_true):
        clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        if y_true.ndim == 1:
            confidences = clipped[np.arange(len(y_pred)), y_true]
        else:
            confidences = np.sum(clipped * y_true, axis=1)
        return -np.log(confidences)

    def backward(self, dvalues, y_true):
        samples, labels = dvalues.shape
        if y_true.ndim == 1:
            y_true = np.eye(labels)[y_true]
        self.dinputs = -y_true / dvalues / samples


class Activation_Softmax_Loss_CategoricalCrossentropy:
    """The fused class, with a forward that returns the sample losses."""

    def forward(self, inputs, y_true):
        self.activation = Activation_Softmax()
        self.activation.forward(inputs, True)
        self.output = self.activation.output
        return Loss_CategoricalCrossentropy().forward(self.output, y_true)

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        if y_true.ndim == 2:
            y_true = np.argmax(y_true, axis=1)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs = self.dinputs / samples


class Loss_BinaryCrossentropy(Loss):
    def forward(self, y_pred, y_true):
        clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        losses = -(y_true * np.log(clipped) + (1 - y_true) * np.log(1 - clipped))
        return np.mean(losses, axis=-1)

    def backward(self, dvalues, y_true):
        samples, outputs = dvalues.shape
        clipped = np.clip(dvalues, 1e-7, 1 - 1e-7)
        self.dinputs = -(y_true / clipped - (1 - y_true) / (1 - clipped)) / outputs / samples


class Loss_MeanSquaredError(Loss):
    def forward(self, y_pred, y_true):
        return np.mean((y_true - y_pred) ** 2, axis=-1)

    def backward(self, dvalues, y_true):
        samples, outputs = dvalues.shape
        self.dinputs = -2 * (y_true - dvalues) / outputs / samples


class Loss_MeanAbsoluteError(Loss):
    def forward(self, y_pred, y_true):
        return np.mean(np.abs(y_true - y_pred), axis=-1)

    def backward(self, dvalues, y_true):
        samples, outputs = dvalues.shape
        self.dinputs = np.sign(dvalues - y_true) / outputs / samples


class DenseW:
    """A dense layer with the names of many course notes: ``W``, ``b``, ``dW``, ``db``."""

    def __init__(self, n_inputs, n_neurons, seed=0):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(size=(n_inputs, n_neurons))
        self.b = rng.normal(size=(1, n_neurons))

    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs @ self.W + self.b

    def backward(self, dvalues):
        self.dW = self.inputs.T @ dvalues
        self.db = dvalues.sum(axis=0, keepdims=True)
        self.dinputs = dvalues @ self.W.T


class DenseDict:
    """Parameters in a dict, gradients in ``grads`` under the same keys."""

    def __init__(self, n_inputs, n_neurons, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": rng.normal(size=(n_inputs, n_neurons)),
                       "b": rng.normal(size=(1, n_neurons))}
        self.grads = {}

    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs @ self.params["W"] + self.params["b"]

    def backward(self, dvalues):
        self.grads["W"] = self.inputs.T @ dvalues
        self.grads["b"] = dvalues.sum(axis=0, keepdims=True)
        self.dinputs = dvalues @ self.params["W"].T


class PReLU:
    """A leaky ReLU whose slope ``alpha`` (one per unit) is learned."""

    def __init__(self, n, seed=0):
        self.alpha = np.random.default_rng(seed).uniform(0.05, 0.3, size=(1, n))

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.where(inputs > 0, inputs, self.alpha * inputs)

    def backward(self, dvalues):
        self.dalpha = np.sum(np.where(self.inputs > 0, 0.0, self.inputs) * dvalues, axis=0,
                             keepdims=True)
        self.dinputs = np.where(self.inputs > 0, 1.0, self.alpha) * dvalues


#: One-line bugs: (class, the line as written, the line with the bug, the row that must
#: fail, words the failure message must hold).
BUGS = [
    ("DenseW", "self.db = dvalues.sum(axis=0, keepdims=True)", "self.db = dvalues.sum(axis=0)",
     "db", "keepdims=True?"),
    ("DenseW", "self.dW = self.inputs.T @ dvalues", "self.dW = dvalues.T @ self.inputs",
     "dW", "transposed"),
    ("Layer_Dense", "self.dweights += 2 * self.weight_regularizer_l2 * self.weights",
     "self.dweights += self.weight_regularizer_l2 * self.weights", "dweights",
     "yours - expected = -1 x l2 * p: the L2 penalty's gradient is 2 * l2 * p"),
    ("Layer_Dense", "self.dweights += self.weight_regularizer_l1 * sign",
     "self.dweights -= self.weight_regularizer_l1 * sign", "dweights",
     "yours - expected = -2 x l1 * sign(p)"),
    ("Layer_Dense", "self.dinputs = np.dot(dvalues, self.weights.T)",
     "self.dinputs = -np.dot(dvalues, self.weights.T)", "dinputs", "flipped sign"),
    ("Layer_Dropout", "self.dinputs = dvalues * self.binary_mask",
     "self.dinputs = dvalues.copy()", "dinputs", "disagree"),
    ("Activation_ReLU", "self.dinputs = np.where(self.inputs > 0, dvalues, 0.0)",
     "self.dinputs = np.where(self.inputs > 0, 0.0, dvalues)", "dinputs", "disagree"),
    ("Activation_Softmax", "self.dinputs = self.output * (dvalues - inner)",
     "self.dinputs = self.output * (inner - dvalues)", "dinputs", "flipped sign"),
    ("Activation_Sigmoid", "self.dinputs = dvalues * (1 - self.output) * self.output",
     "self.dinputs = dvalues * (1 - self.output)", "dinputs", "disagree"),
    ("Loss_CategoricalCrossentropy", "self.dinputs = -y_true / dvalues / samples",
     "self.dinputs = -y_true / dvalues", "dinputs", "the batch size"),
    ("Activation_Softmax_Loss_CategoricalCrossentropy",
     "self.dinputs = self.dinputs / samples", "self.dinputs = self.dinputs", "dinputs",
     "the batch size"),
    ("Loss_BinaryCrossentropy",
     "self.dinputs = -(y_true / clipped - (1 - y_true) / (1 - clipped)) / outputs / samples",
     "self.dinputs = (y_true / clipped - (1 - y_true) / (1 - clipped)) / outputs / samples",
     "dinputs", "flipped sign"),
    ("Loss_MeanSquaredError", "self.dinputs = -2 * (y_true - dvalues) / outputs / samples",
     "self.dinputs = -(y_true - dvalues) / outputs / samples", "dinputs",
     "yours = 0.5 x expected"),
    ("Loss_MeanAbsoluteError", "self.dinputs = np.sign(dvalues - y_true) / outputs / samples",
     "self.dinputs = np.sign(y_true - dvalues) / outputs / samples", "dinputs", "flipped sign"),
    ("DenseW", "self.dW = self.inputs.T @ dvalues", "self.dW = self.inputs.T @ dvalues * 2",
     "dW", "yours = 2 x expected"),
    ("DenseDict", 'self.grads["W"] = self.inputs.T @ dvalues',
     'self.grads["W"] = (dvalues.T @ self.inputs).T * 0', "grads['W']", "zero everywhere"),
    ("PReLU", "self.dalpha = np.sum(np.where(self.inputs > 0, 0.0, self.inputs) * dvalues",
     "self.dalpha = np.sum(np.where(self.inputs > 0, self.inputs, 0.0) * dvalues", "dalpha",
     "disagree"),
]
