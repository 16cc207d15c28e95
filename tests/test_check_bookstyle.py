"""The checker on code written as the book's later chapters write it: no adapter.

Correct classes pass; each one-line bug of :data:`bookstyle.BUGS` is caught,
by the row it breaks and a message that names what is wrong.
"""

import inspect
import os
import subprocess
import sys

import bookstyle as B
import numpy as np
import pytest
from helpers import planted

from nnfs_ref import check_layer, check_loss

RNG = np.random.default_rng(0)


X = RNG.normal(size=(6, 4))


LABELS = np.array([0, 2, 1, 1, 0, 2])


def layer_case(name):
    """A fresh instance of the layer class ``name`` and inputs that fit it."""
    return {
        "Layer_Dense": lambda cls: cls(4, 3, weight_regularizer_l1=1e-2,
                                       weight_regularizer_l2=5e-2, bias_regularizer_l2=1e-2),
        "DenseW": lambda cls: cls(4, 4), "DenseDict": lambda cls: cls(4, 3),
        "PReLU": lambda cls: cls(4), "Layer_Dropout": lambda cls: cls(0.3),
        "Layer_DropoutGenerator": lambda cls: cls(0.3),
    }.get(name, lambda cls: cls())


def loss_case(name):
    """``(y_pred, y_true)`` for the loss class ``name``."""
    rng = np.random.default_rng(1)
    if name == "Loss_CategoricalCrossentropy":
        return rng.dirichlet(np.ones(3), size=6), LABELS
    if name == "Activation_Softmax_Loss_CategoricalCrossentropy":
        return rng.normal(size=(6, 3)), LABELS
    if name == "Loss_BinaryCrossentropy":
        return rng.uniform(0.05, 0.95, size=(6, 2)), rng.integers(0, 2, size=(6, 2)) * 1.0
    return rng.normal(size=(6, 2)), rng.normal(size=(6, 2))


def check(cls):
    name = cls.__name__
    if "Loss" in name:
        return check_loss(cls(), *loss_case(name))
    return check_layer(layer_case(name)(cls), X)


CLASSES = [c for _, c in inspect.getmembers(B, inspect.isclass)
           if c.__module__ == B.__name__ and c is not B.Loss]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_correct_classes_pass(cls):
    report = check(cls)
    assert report.verdict == "ok", str(report)
    assert not report.warnings


@pytest.mark.parametrize("cls_name, old, new, row, words", B.BUGS,
                         ids=[f"{b[0]}:{b[3]}:{i}" for i, b in enumerate(B.BUGS)])
def test_one_line_bugs_are_caught_and_named(cls_name, old, new, row, words):
    report = check(getattr(planted(B, old, new), cls_name))
    assert report.verdict == "fail", str(report)
    assert [c.name for c in report.failures] == [row], str(report)
    assert words in str(report), str(report)


def test_a_backward_that_raises_is_one_line_not_a_traceback():
    bad = planted(B, "self.dbiases = np.sum(dvalues, axis=0, keepdims=True)",
                  "self.dbiases = np.sum(dvalues, axis=0)").Layer_Dense
    report = check(bad)
    assert report.verdict == "error" and report.exit_code == 2
    assert report.summary().startswith("ERROR: your backward raised ValueError: ")
    assert "Traceback" not in str(report)


def test_a_missing_method_is_one_line():
    class NoBackward:
        def forward(self, inputs):
            self.output = inputs
    report = check_layer(NoBackward(), X)
    assert report.summary() == "ERROR: NoBackward has no method backward() (its methods: forward)"


def test_training_argument_is_passed_and_reported():
    report = check_layer(B.Activation_ReLU(), X)
    assert "called as forward(inputs, training=True)" in report.notes


def test_losses_are_checked_through_forward_not_the_accumulator():
    loss = B.Loss_CategoricalCrossentropy()
    with pytest.raises(AttributeError):  # the accumulator needs new_pass() first
        loss.calculate(*loss_case("Loss_CategoricalCrossentropy"))
    assert check_loss(B.Loss_CategoricalCrossentropy(),
                      *loss_case("Loss_CategoricalCrossentropy")).ok


def test_regularizers_are_in_the_objective_and_the_header():
    layer = layer_case("Layer_Dense")(B.Layer_Dense)
    report = check_layer(layer, X)
    assert report.ok
    assert any("the book's penalties (weights: L1 0.01 + L2 0.05, biases: L2 0.01)" in n
               for n in report.notes), report.notes
    # a backward that ignores its penalties is now a failure of dweights and dbiases
    class Unpenalized(B.Layer_Dense):
        def backward(self, dvalues):
            self.dweights = self.inputs.T @ dvalues
            self.dbiases = dvalues.sum(axis=0, keepdims=True)
            self.dinputs = dvalues @ self.weights.T
    report = check_layer(layer_case("Layer_Dense")(Unpenalized), X)
    assert [c.name for c in report.failures] == ["dweights", "dbiases"]


def test_a_penalty_callable_covers_other_conventions():
    class HalfL2(B.DenseW):  # penalty 0.5 * lam * sum W**2, gradient lam * W
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dW = self.dW + 0.1 * self.W
    assert not check_layer(HalfL2(4, 3), X).ok
    report = check_layer(HalfL2(4, 3), X, penalty=lambda layer: 0.05 * np.sum(layer.W ** 2))
    assert report.ok, str(report)
    assert any("penalty(layer)" in n for n in report.notes)


def test_random_forward_is_pinned_and_reported():
    report = check_layer(B.Layer_Dropout(0.5), X)
    assert report.ok
    assert any("forward is random" in n for n in report.notes)
    state = np.random.get_state()[1].copy()
    check_layer(B.Layer_Dropout(0.5), X)
    assert np.array_equal(np.random.get_state()[1], state), "the check moved the global RNG"


def test_randomness_that_cannot_be_pinned_is_not_a_fail():
    import random

    class StdlibDropout(B.Layer_Dropout):
        def forward(self, inputs, training):
            self.inputs = inputs
            keep = np.array([[random.random() < self.rate for _ in row] for row in inputs])
            self.binary_mask = keep / self.rate
            self.output = inputs * self.binary_mask
    report = check_layer(StdlibDropout(0.5), X)
    assert report.verdict == "cannot check"
    assert report.summary().startswith("CANNOT CHECK: forward is random")


def test_relu_at_exact_zeros_accepts_the_subgradient_but_not_a_wrong_value():
    x = X.copy()
    x[:2, :2] = 0.0
    report = check_layer(B.Activation_ReLU(), x)
    assert report.ok and report.kinks == 4
    assert "4 entries at kinks: subgradients accepted" in report.summary()

    class WrongAtZero(B.Activation_ReLU):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dinputs[self.inputs == 0] = -dvalues[self.inputs == 0]
    wrong = check_layer(WrongAtZero(), x)
    assert [c.name for c in wrong.failures] == ["dinputs"]


def test_float32_forward_is_checked_at_its_precision_and_said_so():
    class Float32Dense(B.DenseW):
        def forward(self, inputs):
            super().forward(inputs)
            self.output = self.output.astype(np.float32)
    report = check_layer(Float32Dense(4, 3), X)
    assert report.verdict == "ok", str(report)
    assert "forward returns float32 for float64 inputs" in str(report)


def test_nnfs_init_is_lifted_for_the_check():
    """In a subprocess: nnfs.init() patches NumPy for the whole process."""
    code = (
        "import sys; sys.path.insert(0, 'tests')\n"
        "import nnfs, numpy as np, bookstyle as B\n"
        "from nnfs_ref import check_layer\n"
        "nnfs.init()\n"
        "layer = B.Layer_Dense(4, 3, weight_regularizer_l2=5e-4)\n"
        "assert layer.weights.dtype == np.float32\n"
        "x = np.random.randn(6, 4)\n"
        "report = check_layer(layer, x)\n"
        "print(report)\n"
        "assert report.ok\n"
        "assert any('np.dot' in n and 'lifted' in n for n in report.notes)\n"
        "assert np.dot(np.ones((1, 1)), np.ones((1, 1))).dtype == np.float32, 'patch not back'\n"
        "assert layer.weights.dtype == np.float32, 'parameters not put back'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.returncode == 0, done.stdout + done.stderr


def test_parameters_in_other_names_are_found():
    report = check_layer(B.DenseW(4, 3), X)
    assert [c.name for c in report.checks][:3] == ["dinputs", "dW", "db"]
    report = check_layer(B.PReLU(4), X)
    assert "dalpha" in [c.name for c in report.checks]


def test_an_array_without_gradient_warns():
    class Scaled(B.DenseW):
        def __init__(self, n_inputs, n_neurons):
            super().__init__(n_inputs, n_neurons)
            self.gain = np.full((1, n_neurons), 2.0)

        def forward(self, inputs):
            super().forward(inputs)
            self.output = self.output * self.gain

        def backward(self, dvalues):
            super().backward(dvalues * self.gain)

    with pytest.warns(UserWarning, match="gain has no gradient"):
        report = check_layer(Scaled(4, 3), X)
    assert "WARNING: gain has no gradient" in str(report)
    assert report.ok  # the rest is right


def test_a_weight_whose_gradient_cannot_be_found_fails_and_names_what_backward_set():
    class Hidden(B.DenseW):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.stash = self.dW
            del self.dW
    with pytest.warns(UserWarning, match="backward set stash, which the checker could not "
                                         "match"):
        report = check_layer(Hidden(4, 3), X)
    assert [c.name for c in report.failures] == ["dW"]
    assert "backward did not set dW" in str(report)
    with pytest.warns(UserWarning, match="stash"):
        explicit = check_layer(Hidden(4, 3), X, params=["W", "b"])
    assert [c.name for c in explicit.failures] == ["dW"]


def test_an_unset_gradient_is_named():
    class NoBias(B.Layer_Dense):
        def backward(self, dvalues):
            self.dweights = self.inputs.T @ dvalues
            self.dinputs = dvalues @ self.weights.T
    report = check_layer(NoBias(4, 3), X)
    assert [c.name for c in report.failures] == ["dbiases"]
    assert "FAIL: backward did not set dbiases" in str(report)


def test_explicit_params_must_exist():
    with pytest.raises(ValueError, match="has no float array Q"):
        check_layer(B.DenseW(4, 3), X, params=["Q"])


def test_the_fused_class_differs_from_its_clipped_forward_where_the_clip_binds():
    """The book's fused backward is (softmax - onehot) / N whatever the clip does; its
    forward clips the true class's probability at 1e-7. Where the clip binds the forward
    is flat, and the check says so rather than hiding it."""
    logits, labels = np.array([[0.0, -100.0]]), np.array([1])
    report = check_loss(B.Activation_Softmax_Loss_CategoricalCrossentropy(), logits, labels)
    assert report.verdict == "fail"
    assert "the output does not depend on y_pred here (a clip or a saturation?)" in str(report)
