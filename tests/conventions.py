"""The project's own layers in the conventions of hand-written backprop outside the book.

Each class is correct as written here; :data:`BUGS` plants one-line bugs in them.
None of this is copied: each is written in a style the checker must read as it is.
"""

import numpy as np


class SnakeDense:
    """Gradients named ``d_weights``, ``d_biases``, ``d_inputs``."""

    def __init__(self, n_inputs, n_neurons):
        self.weights = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.biases = 0.1 * np.random.randn(1, n_neurons)

    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs @ self.weights + self.biases

    def backward(self, dvalues):
        self.d_weights = self.inputs.T @ dvalues
        self.d_biases = dvalues.sum(axis=0, keepdims=True)
        self.d_inputs = dvalues @ self.weights.T


class CamelDense:
    """camelCase: ``dWeights``, ``dBiases``, ``dInputs``."""

    def __init__(self, n_inputs, n_neurons):
        self.weights = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.biases = 0.1 * np.random.randn(1, n_neurons)

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dWeights = np.dot(self.inputs.T, dvalues)
        self.dBiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dInputs = np.dot(dvalues, self.weights.T)


class SingularDense:
    """Singular names: ``weight``, ``bias``, and ``dweight``, ``dbias``, ``dinput``."""

    def __init__(self, n_inputs, n_neurons):
        self.weight = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.bias = 0.1 * np.random.randn(1, n_neurons)

    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs @ self.weight + self.bias

    def backward(self, dvalues):
        self.dweight = self.inputs.T @ dvalues
        self.dbias = dvalues.sum(axis=0, keepdims=True)
        self.dinput = dvalues @ self.weight.T


class ReturningLinear:
    """Forward returns its output and backward its input gradient; the parameters'
    gradients are ``W_grad``, ``b_grad``."""

    def __init__(self, n_inputs, n_neurons):
        self.W = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.b = 0.1 * np.random.randn(n_neurons)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad):
        self.W_grad = self.x.T @ grad
        self.b_grad = grad.sum(axis=0)
        return grad @ self.W.T


class PassLayer:
    """``forward_pass``/``backward_pass``, parameters ``w``, ``b``, gradients ``_dw``, ``_db``,
    ``dx``; a tanh after the affine map."""

    def __init__(self, n_inputs, n_neurons):
        self.w = 0.5 * np.random.randn(n_inputs, n_neurons)
        self.b = 0.5 * np.random.randn(1, n_neurons)

    def forward_pass(self, x):
        self.x = x
        self.out = np.tanh(x @ self.w + self.b)
        return self.out

    def backward_pass(self, grad):
        local = grad * (1 - self.out ** 2)
        self._dw = self.x.T @ local
        self._db = local.sum(axis=0, keepdims=True)
        self.dx = local @ self.w.T
        return self.dx


class LeibnizDense:
    """``fwd``/``bwd``, gradients named as derivatives of the loss: ``dL_dW``, ``dL_db``,
    ``dL_dX``."""

    def __init__(self, n_inputs, n_neurons):
        self.W = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.b = 0.1 * np.random.randn(1, n_neurons)

    def fwd(self, X):
        self.X = X
        return X @ self.W + self.b

    def bwd(self, dL_dY):
        self.dL_dW = self.X.T @ dL_dY
        self.dL_db = dL_dY.sum(axis=0, keepdims=True)
        self.dL_dX = dL_dY @ self.W.T


class FlaggedDropout:
    """Dropout whose training flag is ``is_training``, drawing from ``np.random``."""

    def __init__(self, rate):
        self.keep = 1 - rate

    def forward(self, inputs, is_training=False):
        if not is_training:
            self.output = inputs
            return
        self.mask = np.random.binomial(1, self.keep, size=inputs.shape) / self.keep
        self.output = inputs * self.mask

    def backward(self, dvalues):
        self.dinputs = dvalues * self.mask


class LazyDense:
    """Parameters created by the first forward, when the input width is known."""

    def __init__(self, n_neurons):
        self.n_neurons = n_neurons
        self.W = None
        self.b = None

    def forward(self, inputs):
        if self.W is None:
            rng = np.random.default_rng(0)
            self.W = rng.normal(size=(inputs.shape[1], self.n_neurons))
            self.b = rng.normal(size=(1, self.n_neurons))
        self.inputs = inputs
        self.output = inputs @ self.W + self.b

    def backward(self, dvalues):
        self.dW = self.inputs.T @ dvalues
        self.db = dvalues.sum(axis=0, keepdims=True)
        self.dinputs = dvalues @ self.W.T


class RegularisedDense:
    """British spellings and short names of the book's penalty strengths."""

    def __init__(self, n_inputs, n_neurons, weight_L1=0.0, weight_reg_l2=0.0,
                 bias_regulariser_l2=0.0):
        self.weights = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.biases = 0.1 * np.random.randn(1, n_neurons)
        self.weight_L1 = weight_L1
        self.weight_reg_l2 = weight_reg_l2
        self.bias_regulariser_l2 = bias_regulariser_l2

    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs @ self.weights + self.biases

    def backward(self, dvalues):
        self.dweights = self.inputs.T @ dvalues
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dweights += self.weight_L1 * np.where(self.weights >= 0, 1.0, -1.0)
        self.dweights += 2 * self.weight_reg_l2 * self.weights
        self.dbiases += 2 * self.bias_regulariser_l2 * self.biases
        self.dinputs = dvalues @ self.weights.T


class SteppingLinear:
    """``backward(grad, learning_rate)`` updates the parameters itself and returns the input
    gradient, computed before the update; no gradient is ever stored."""

    def __init__(self, n_inputs, n_neurons):
        self.W = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.b = np.zeros(n_neurons) + 0.1

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad, learning_rate):
        dx = grad @ self.W.T
        self.W -= learning_rate * (self.x.T @ grad)
        self.b -= learning_rate * grad.sum(axis=0)
        return dx


class AccumulatingDense:
    """numpy-ml's shape: ``parameters`` and ``gradients`` dicts, gradients accumulated with
    ``+=`` until ``flush_gradients()``, forward and backward returning their results."""

    def __init__(self, n_inputs, n_neurons):
        self.parameters = {"W": 0.1 * np.random.randn(n_inputs, n_neurons),
                           "b": 0.1 * np.random.randn(1, n_neurons)}
        self.gradients = {name: np.zeros_like(value) for name, value in self.parameters.items()}

    def forward(self, X):
        self.X = X
        return X @ self.parameters["W"] + self.parameters["b"]

    def backward(self, dLdy):
        self.gradients["W"] += self.X.T @ dLdy
        self.gradients["b"] += dLdy.sum(axis=0, keepdims=True)
        return dLdy @ self.parameters["W"].T

    def flush_gradients(self):
        for value in self.gradients.values():
            value[:] = 0.0


class Activation_Softmax_Loss_CategoricalCrossentropy:
    """The fused class as the book's chapter 22 writes it: no forward, backward given the
    softmax outputs."""

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        if len(y_true.shape) == 2:
            y_true = np.argmax(y_true, axis=1)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs = self.dinputs / samples


class Momentum:
    """An optimizer object: ``update(param, grad)`` steps the parameter in place."""

    def __init__(self, learning_rate=0.1, beta=0.9):
        self.learning_rate, self.beta, self.velocity = learning_rate, beta, {}

    def update(self, param, grad):
        v = self.beta * self.velocity.get(id(param), 0.0) - self.learning_rate * grad
        self.velocity[id(param)] = v
        param += v


class OptimizedDense:
    """Hands its gradients to an optimizer object and stores none of them."""

    def __init__(self, n_inputs, n_neurons):
        self.W = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.b = 0.1 * np.random.randn(1, n_neurons)
        self.optimizer = Momentum()

    def forward(self, X):
        self.X = X
        return X @ self.W + self.b

    def backward(self, dY):
        dX = dY @ self.W.T
        self.optimizer.update(self.W, self.X.T @ dY)
        self.optimizer.update(self.b, dY.sum(axis=0, keepdims=True))
        return dX


class ListParamsDense:
    """Parameters in a list; backward returns ``(dX, [dW, db])`` in the list's order."""

    def __init__(self, n_inputs, n_neurons):
        self.params = [0.1 * np.random.randn(n_inputs, n_neurons),
                       0.1 * np.random.randn(n_neurons)]

    def forward(self, X):
        self.X = X
        W, b = self.params
        return X @ W + b

    def backward(self, dY):
        W, _ = self.params
        return dY @ W.T, [self.X.T @ dY, dY.sum(axis=0)]


class Embedding:
    """Word indices in, vectors out: the inputs are integers, only the table has a gradient."""

    def __init__(self, vocabulary, width):
        self.table = 0.1 * np.random.randn(vocabulary, width)

    def forward(self, indices):
        self.indices = indices
        self.output = self.table[indices]

    def backward(self, dvalues):
        self.dtable = np.zeros_like(self.table)
        np.add.at(self.dtable, self.indices, dvalues)


class Tanh:
    """An activation object: ``fn(z)`` and its derivative ``grad(z)``."""

    def fn(self, z):
        return np.tanh(z)

    def grad(self, z):
        return 1 - np.tanh(z) ** 2


class Sigmoid:
    """An activation object called as a function, with ``grad(x)``."""

    def __call__(self, x):
        return 1 / (1 + np.exp(-x))

    def grad(self, x):
        s = self(x)
        return s * (1 - s)


class SquaredError:
    """A loss object, targets first: ``loss(y, y_pred)`` is half the mean squared error
    over the batch, ``grad(y, y_pred)`` its gradient."""

    def loss(self, y, y_pred):
        return 0.5 * np.sum((y_pred - y) ** 2) / len(y)

    def grad(self, y, y_pred):
        return (y_pred - y) / len(y)


class CrossEntropy:
    """A loss object on logits, predictions first: ``loss(logits, labels)``, ``gradient(...)``."""

    def loss(self, logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -log_probs[np.arange(len(labels)), labels].mean()

    def gradient(self, logits, labels):
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        probs[np.arange(len(labels)), labels] -= 1
        return probs / len(labels)


#: (class, the line as written, the line with the bug, the failing row, words the report
#: must hold).
BUGS = [
    ("SnakeDense", "self.d_weights = self.inputs.T @ dvalues",
     "self.d_weights = self.inputs.T @ dvalues / len(dvalues)", "d_weights", "constant factor"),
    ("SnakeDense", "self.d_inputs = dvalues @ self.weights.T",
     "self.d_inputs = dvalues @ self.weights.T * 0", "d_inputs", "zero everywhere"),
    ("CamelDense", "self.dBiases = np.sum(dvalues, axis=0, keepdims=True)",
     "self.dBiases = np.sum(dvalues, axis=0, keepdims=True) * -1", "dBiases", "flipped sign"),
    ("SingularDense", "self.dweight = self.inputs.T @ dvalues",
     "self.dweight = self.inputs.T @ dvalues * 2", "dweight", "yours = 2 x expected"),
    ("ReturningLinear", "return grad @ self.W.T", "return grad @ self.W.T * 0.5", "dinputs",
     "yours = 0.5 x expected"),
    ("ReturningLinear", "self.b_grad = grad.sum(axis=0)", "self.b_grad = grad.sum(axis=1)",
     "b_grad", "b_grad has shape"),
    ("PassLayer", "self._dw = self.x.T @ local", "self._dw = self.x.T @ grad", "_dw",
     "disagree"),
    ("LeibnizDense", "self.dL_db = dL_dY.sum(axis=0, keepdims=True)",
     "self.dL_db = dL_dY.sum(axis=0, keepdims=True) * -1", "dL_db", "flipped sign"),
    ("FlaggedDropout", "self.dinputs = dvalues * self.mask",
     "self.dinputs = dvalues * self.mask * self.keep", "dinputs", "constant factor"),
    ("LazyDense", "self.db = dvalues.sum(axis=0, keepdims=True)",
     "self.db = dvalues.mean(axis=0, keepdims=True)", "db", "constant factor"),
    ("SteppingLinear", "self.b -= learning_rate * grad.sum(axis=0)",
     "self.b -= learning_rate * grad.mean(axis=0)", "db", "constant factor"),
    ("SteppingLinear", "dx = grad @ self.W.T", "dx = grad @ self.W.T * 2", "dinputs",
     "yours = 2 x expected"),
    ("AccumulatingDense", 'self.gradients["b"] += dLdy.sum(axis=0, keepdims=True)',
     'self.gradients["b"] += dLdy.sum(axis=1, keepdims=True).sum()', "gradients['b']",
     "disagree"),
    ("Activation_Softmax_Loss_CategoricalCrossentropy",
     "self.dinputs = self.dinputs / samples", "self.dinputs = self.dinputs", "dinputs",
     "the batch size 6: a mean's 1/N missing?"),
    ("OptimizedDense", "self.optimizer.update(self.W, self.X.T @ dY)",
     "self.optimizer.update(self.W, dY.T @ self.X)", "dW", "has shape"),
    ("ListParamsDense", "return dY @ W.T, [self.X.T @ dY, dY.sum(axis=0)]",
     "return dY @ W.T, [self.X.T @ dY, dY.mean(axis=0)]", "dparams[1]", "constant factor"),
    ("Embedding", "np.add.at(self.dtable, self.indices, dvalues)",
     "self.dtable[self.indices] += dvalues", "dtable", "disagree"),
    ("Tanh", "return 1 - np.tanh(z) ** 2", "return 1 - np.tanh(z)", "dinputs", "disagree"),
    ("Sigmoid", "return s * (1 - s)", "return s", "dinputs", "disagree"),
    ("SquaredError", "return (y_pred - y) / len(y)", "return (y - y_pred) / len(y)", "dinputs",
     "flipped sign"),
    ("CrossEntropy", "return probs / len(labels)", "return probs", "dinputs",
     "the batch size 6: a mean's 1/N missing?"),
    ("RegularisedDense", "self.dweights += 2 * self.weight_reg_l2 * self.weights",
     "self.dweights += self.weight_reg_l2 * self.weights", "dweights",
     "the L2 penalty's gradient is 2 * l2 * p"),
    ("RegularisedDense", "self.dbiases += 2 * self.bias_regulariser_l2 * self.biases",
     "self.dbiases += 0 * self.bias_regulariser_l2 * self.biases", "dbiases", "L2"),
]
