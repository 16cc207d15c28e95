"""The book's optimizers: SGD (with decay and momentum), Adagrad, RMSprop and Adam.

Every optimizer follows the book's protocol, once per training step::

    optimizer.pre_update_params()     # current_learning_rate = lr / (1 + decay * iterations)
    optimizer.update_params(dense1)   # one step on each layer's weights and biases, in place
    optimizer.update_params(dense2)
    optimizer.post_update_params()    # iterations += 1

``update_params(layer)`` takes any object with ``weights`` (n_in, n_out) and
``biases`` (1, n_out) and their gradients ``dweights`` / ``dbiases`` of exactly
those shapes (set by ``backward``). The optimizer's per-parameter state lives
on the layer, under the book's names (``weight_momentums``, ``bias_momentums``,
``weight_cache``, ``bias_cache``), with the shapes of the parameters; it is
created as zeros at the first update.

In the formulas below ``g`` is a gradient (``dweights`` or ``dbiases``), ``p``
its parameter, ``lr`` the current learning rate and ``t`` the number of
completed steps (``iterations``). Where a rule differs from optax's
optimizer of the same name, the README says how (section "The optimizers
and optax").
"""

import numpy as np

from manual._validate import hyperparameter

#: The book's names of the state kept on a layer for each parameter.
MOMENTUMS = {"weights": "weight_momentums", "biases": "bias_momentums"}
CACHE = {"weights": "weight_cache", "biases": "bias_cache"}


class _Optimizer:
    """Learning-rate decay, the step counter and the checks shared by the optimizers."""

    def __init__(self, learning_rate, decay):
        self.learning_rate = hyperparameter(learning_rate, "learning_rate", 0, low_open=True)
        self.current_learning_rate = learning_rate
        self.decay = hyperparameter(decay, "decay", 0)
        self.iterations = 0

    def pre_update_params(self):
        """Before a step: ``current_learning_rate = learning_rate / (1 + decay * iterations)``."""
        if self.decay:
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations))

    def update_params(self, layer):
        """Take one step on ``layer.weights`` and ``layer.biases``, in place.

        Parameters
        ----------
        layer : Layer_Dense (or any object with weights/biases and their gradients)
            ``weights`` (n_in, n_out) and ``biases`` (1, n_out), with
            ``dweights`` and ``dbiases`` of exactly those shapes.

        The rule for each parameter is in the class's docstring.
        """
        for name in ("weights", "biases"):
            grad = getattr(layer, "d" + name, None)
            if grad is None:
                raise RuntimeError(f"{type(layer).__name__} has no d{name}: "
                                   "call backward() before update_params()")
            param = getattr(layer, name)
            if np.shape(grad) != param.shape:
                raise ValueError(
                    f"d{name} must have the shape of {name}, {param.shape}, got {np.shape(grad)}"
                )
        self._update(layer, "weights", layer.dweights)
        self._update(layer, "biases", layer.dbiases)

    def post_update_params(self):
        """After a step: ``iterations += 1``."""
        self.iterations += 1

    @staticmethod
    def _state(layer, attribute, param):
        """The layer's state array ``attribute``, created as zeros like ``param`` if missing."""
        if getattr(layer, attribute, None) is None:
            setattr(layer, attribute, np.zeros_like(param))
        return getattr(layer, attribute)


class Optimizer_SGD(_Optimizer):
    """Stochastic gradient descent, with the book's learning-rate decay and momentum.

    ``v = momentum * v - lr * g`` (``v``: ``weight_momentums`` / ``bias_momentums``),
    then ``p += v``. Without momentum, ``p += -lr * g``: with the defaults
    this is the seed's update, bit for bit.

    Parameters
    ----------
    learning_rate : float, default 0.5
        The seed's default (the book's is 1.0). Positive and finite.
    decay : float, default 0
        Learning-rate decay, ``lr = learning_rate / (1 + decay * iterations)``. >= 0.
    momentum : float, default 0
        The fraction of the previous update kept, in [0, 1).
    """

    def __init__(self, learning_rate=0.5, decay=0.0, momentum=0.0):
        super().__init__(learning_rate, decay)
        self.momentum = hyperparameter(momentum, "momentum", 0, 1)

    def _update(self, layer, name, grad):
        param = getattr(layer, name)
        if self.momentum:
            update = (self.momentum * self._state(layer, MOMENTUMS[name], param)
                      - self.current_learning_rate * grad)
            setattr(layer, MOMENTUMS[name], update)
        else:
            update = -self.current_learning_rate * grad
        param += update


class Optimizer_Adagrad(_Optimizer):
    """Adagrad: ``cache += g**2``, then ``p += -lr * g / (sqrt(cache) + epsilon)``.

    ``cache`` (``weight_cache`` / ``bias_cache``) starts at 0, and epsilon is
    added outside the root (optax's ``adagrad`` starts it at 0.1 and adds
    epsilon inside the root).

    Parameters
    ----------
    learning_rate : float, default 1.0
    decay : float, default 0
        As for :class:`Optimizer_SGD`.
    epsilon : float, default 1e-7
        Positive; keeps the step finite where a gradient has always been 0.
    """

    def __init__(self, learning_rate=1.0, decay=0.0, epsilon=1e-7):
        super().__init__(learning_rate, decay)
        self.epsilon = hyperparameter(epsilon, "epsilon", 0, low_open=True)

    def _update(self, layer, name, grad):
        param = getattr(layer, name)
        cache = self._state(layer, CACHE[name], param)
        cache += grad**2
        param += -self.current_learning_rate * grad / (np.sqrt(cache) + self.epsilon)


class Optimizer_RMSprop(_Optimizer):
    """RMSprop: ``cache = rho * cache + (1 - rho) * g**2``, then
    ``p += -lr * g / (sqrt(cache) + epsilon)``.

    ``cache`` starts at 0; epsilon is added outside the root (optax's
    ``rmsprop`` with ``eps_in_sqrt=False``).

    Parameters
    ----------
    learning_rate : float, default 0.001
    decay : float, default 0
        As for :class:`Optimizer_SGD`.
    epsilon : float, default 1e-7
        Positive.
    rho : float, default 0.9
        Decay rate of the cache, in [0, 1).
    """

    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, rho=0.9):
        super().__init__(learning_rate, decay)
        self.epsilon = hyperparameter(epsilon, "epsilon", 0, low_open=True)
        self.rho = hyperparameter(rho, "rho", 0, 1)

    def _update(self, layer, name, grad):
        param = getattr(layer, name)
        cache = self.rho * self._state(layer, CACHE[name], param) + (1 - self.rho) * grad**2
        setattr(layer, CACHE[name], cache)
        param += -self.current_learning_rate * grad / (np.sqrt(cache) + self.epsilon)


class Optimizer_Adam(_Optimizer):
    """Adam, with bias correction.

    ``m = beta_1 * m + (1 - beta_1) * g`` (``weight_momentums`` / ``bias_momentums``),
    ``v = beta_2 * v + (1 - beta_2) * g**2`` (``weight_cache`` / ``bias_cache``),
    ``m_hat = m / (1 - beta_1**(t + 1))``, ``v_hat = v / (1 - beta_2**(t + 1))``,
    then ``p += -lr * m_hat / (sqrt(v_hat) + epsilon)``. ``t`` is ``iterations``,
    so ``post_update_params`` must be called after every step.

    Parameters
    ----------
    learning_rate : float, default 0.001
    decay : float, default 0
        As for :class:`Optimizer_SGD`.
    epsilon : float, default 1e-7
        Positive (optax's ``adam`` defaults to 1e-8).
    beta_1, beta_2 : float, default 0.9, 0.999
        Decay rates of the two moments, in [0, 1).
    """

    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, beta_1=0.9, beta_2=0.999):
        super().__init__(learning_rate, decay)
        self.epsilon = hyperparameter(epsilon, "epsilon", 0, low_open=True)
        self.beta_1 = hyperparameter(beta_1, "beta_1", 0, 1)
        self.beta_2 = hyperparameter(beta_2, "beta_2", 0, 1)

    def _update(self, layer, name, grad):
        param = getattr(layer, name)
        m = (self.beta_1 * self._state(layer, MOMENTUMS[name], param)
             + (1 - self.beta_1) * grad)
        v = self.beta_2 * self._state(layer, CACHE[name], param) + (1 - self.beta_2) * grad**2
        setattr(layer, MOMENTUMS[name], m)
        setattr(layer, CACHE[name], v)
        m_hat = m / (1 - self.beta_1 ** (self.iterations + 1))
        v_hat = v / (1 - self.beta_2 ** (self.iterations + 1))
        param += -self.current_learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)
