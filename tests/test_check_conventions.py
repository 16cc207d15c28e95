"""The checker on layers written in the conventions of the wild (tests/conventions.py), each
as written: correct ones pass and say what was detected; one-line bugs are caught and named."""

import conventions as C
import numpy as np
import pytest
from helpers import planted

from nnfs_ref import check_layer, check_loss

X = np.random.default_rng(0).normal(size=(6, 4))
LABELS = np.array([0, 2, 1, 3, 0, 2])

#: class -> (constructor arguments, what the report's notes must say was detected)
CASES = {
    "SnakeDense": ((4, 3), "dweights read from d_weights; dbiases read from d_biases"),
    "CamelDense": ((4, 3), "dinputs read from dInputs"),
    "SingularDense": ((4, 3), "dinputs read from dinput"),
    "ReturningLinear": ((4, 3), "backward returned dinputs; dW read from W_grad; db read from "
                                "b_grad"),
    "PassLayer": ((4, 3), "called as forward_pass(inputs) and backward_pass(dvalues)"),
    "LeibnizDense": ((4, 3), "called as fwd(inputs) and bwd(dvalues)"),
    "FlaggedDropout": ((0.3,), "called as forward(inputs, is_training=True)"),
    "LazyDense": ((3,), "parameters created by the first forward: W, b"),
    "SteppingLinear": ((4, 3), "gradients recovered from backward(dvalues, learning_rate="
                               "1.04858e+06) as the change of the parameters (put back after); "
                               "dinputs from learning_rate=0 (backward returned dinputs)"),
    "AccumulatingDense": ((4, 3), "gradients['W'] accumulates (+=, reset by "
                                  "flush_gradients()): read as its change over one backward"),
    "Activation_Softmax_Loss_CategoricalCrossentropy": (
        (), "no forward (the fused softmax + cross-entropy of chapter 22)"),
    "OptimizedDense": ((4, 3), "dW read from the optimizer's update(W, grad), which changed "
                               "nothing"),
    "ListParamsDense": ((4, 3), "backward returned (dinputs, [gradients of params, in "
                                "order])"),
    "Embedding": ((5, 3), "int64 inputs: passed as they are and not differentiated"),
    "Tanh": ((), "an activation object: forward = fn(x), backward = dvalues * grad(x)"),
    "Sigmoid": ((), "an activation object: forward = __call__(x)"),
    "SquaredError": ((), "a loss object: forward = loss(y_true, y_pred), backward = "
                         "grad(y_true, y_pred)"),
    "CrossEntropy": ((), "a loss object: forward = loss(y_pred, y_true), backward = "
                         "gradient(y_pred, y_true)"),
    "RegularisedDense": ((4, 3, 0.01, 0.05, 0.02),
                         "strengths read from weight_L1, weight_reg_l2, bias_regulariser_l2"),
}


LOSS_DATA = {"SquaredError": (X, X[::-1] * 0.5), "CrossEntropy": (X, LABELS),
             "Activation_Softmax_Loss_CategoricalCrossentropy": (X, LABELS)}


def make(module, name):
    np.random.seed(1)
    return getattr(module, name)(*CASES[name][0])


def check(module, name):
    """The check of ``name`` from ``module``: a loss on its data, else a layer on X."""
    if name in LOSS_DATA:
        return check_loss(make(module, name), *LOSS_DATA[name])
    if name == "Embedding":  # repeated indices: a += that drops repeats is the bug
        return check_layer(make(module, name), np.array([[0, 2, 2], [4, 0, 1]]))
    return check_layer(make(module, name), X)


@pytest.mark.parametrize("name", list(CASES))
def test_correct_code_passes_and_says_what_was_detected(name):
    report = check(C, name)
    assert report.ok, str(report)
    assert any(CASES[name][1] in note for note in report.notes), report.notes
    assert len(report.checks) >= 3  # dinputs, a parameter's gradient, the unchanged rows


@pytest.mark.parametrize("name, old, new, row, words", C.BUGS,
                         ids=[f"{b[0]}:{b[3]}:{i}" for i, b in enumerate(C.BUGS)])
def test_one_line_bugs_are_caught_and_named(name, old, new, row, words):
    report = check(planted(C, old, new), name)
    assert report.verdict == "fail", str(report)
    assert [c.name for c in report.failures] == [row], str(report)
    assert words in str(report), str(report)


def test_a_misspelt_method_is_named_with_a_did_you_mean():
    class Typo:
        def forward(self, inputs):
            self.output = inputs

        def bacward(self, dvalues):
            self.dinputs = dvalues

    report = check_layer(Typo(), X)
    assert report.summary() == ("ERROR: Typo has no method backward() (its methods: bacward, "
                                "forward; did you mean bacward?)")


def test_a_backward_that_writes_into_dvalues_is_named():
    class Scribbler(C.SnakeDense):
        def backward(self, dvalues):
            super().backward(dvalues)
            dvalues[0, 0] = 0.0

    np.random.seed(1)
    report = check_layer(Scribbler(4, 3), X)
    assert [c.name for c in report.failures] == ["dvalues unchanged"]
    assert "FAIL: your backward wrote into dvalues: 1 of 18 entries changed (a method must " \
           "not change its arguments)" in str(report)


def test_a_forward_that_overwrites_its_inputs_is_told_first():
    class Overwriter(C.SnakeDense):
        def forward(self, inputs):
            inputs *= 2.0
            super().forward(inputs)

    np.random.seed(1)
    report = check_layer(Overwriter(4, 3), X)
    assert [c.name for c in report.checks] == ["inputs unchanged"]  # nothing else compared
    assert "your forward wrote into inputs: 24 of 24 entries changed" in str(report)
    assert "the gradients were not checked: your forward wrote into its inputs" in report.notes


def test_a_strength_that_is_not_read_is_a_warning_not_silence():
    class Decayed(C.SnakeDense):
        def __init__(self, n_inputs, n_neurons):
            super().__init__(n_inputs, n_neurons)
            self.weight_decay = 0.01

    np.random.seed(1)
    with pytest.warns(UserWarning, match="weight_decay = 0.01 looks like a penalty strength"):
        check_layer(Decayed(4, 3), X)


def test_a_stepping_backward_leaves_the_parameters_as_they_were():
    layer = make(C, "SteppingLinear")
    weights, biases = layer.W, layer.b.copy()
    values = weights.copy()
    assert check_layer(layer, X).ok
    assert layer.W is weights and np.array_equal(layer.W, values)
    assert np.array_equal(layer.b, biases)


def test_accumulated_gradients_are_read_as_their_change_whatever_they_held():
    layer = make(C, "AccumulatingDense")
    for value in layer.gradients.values():
        value += 5.0  # a backward of earlier training, never flushed
    report = check_layer(layer, X)
    assert report.ok, str(report)
    assert np.all(layer.gradients["W"] != 5.0)  # the check's own backward added to them


def test_a_call_the_checker_makes_is_never_blamed_on_the_code():
    class NoArguments:
        def forward(self, inputs):
            self.output = inputs

        def backward(self):
            self.dinputs = None

    report = check_layer(NoArguments(), X)
    assert report.summary() == ("ERROR: the checker calls backward(array), which "
                                "NoArguments.backward() cannot take")


def test_the_optimizer_is_put_back_and_never_stepped_by_the_check():
    layer = make(C, "OptimizedDense")
    optimizer, weights = layer.optimizer, layer.W.copy()
    assert check_layer(layer, X).ok
    assert layer.optimizer is optimizer and optimizer.velocity == {}
    assert np.array_equal(layer.W, weights)
