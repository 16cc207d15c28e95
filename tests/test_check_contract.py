"""nnfs_ref.check.contract: how the user's object is called, its arrays and randomness found."""

import numpy as np
import pytest

from nnfs_ref.check import contract
from nnfs_ref.check.contract import Slot, UserCodeError


class Layer:
    def __init__(self):
        self.weights = np.ones((2, 3))
        self.counts = np.arange(3)  # integers: not a parameter
        self.params = {"W": np.zeros((3, 1)), "name": "dense"}
        self.grads = {"W": np.zeros((3, 1))}  # a gradient dict: not parameters
        self.rng = np.random.default_rng(1)

    def forward(self, inputs, training=False):
        self.output = inputs

    def backward(self, dvalues):
        self.dinputs = dvalues


class Loss:
    def forward(self, y_pred, y_true):
        return y_pred

    def backward(self, dvalues, y_true):
        self.dinputs = dvalues


def test_params_and_slots_parse():
    assert contract.parse_params("W, b,") == ["W", "b"]
    assert contract.parse_params(["W"]) == ["W"] and contract.parse_params(None) is None
    assert contract.parse_slot("params['W']") == Slot("params", "W")
    assert contract.parse_slot(" W ") == Slot("W")


def test_float_arrays_are_found_in_attributes_and_dicts():
    assert contract.array_slots(Layer()) == [Slot("weights"), Slot("params", "W")]


def test_a_gradient_may_sit_in_d_name_or_a_grads_dict():
    layer = Layer()
    assert Slot("params", "W").gradient_slots(layer) == [Slot("dparams", "W"),
                                                         Slot("grads", "W")]
    assert Slot("weights").gradient_name == "dweights"


def test_was_set_sees_a_new_array_and_one_written_in_place():
    layer = Layer()
    before = contract.snapshot_values(layer, [Slot("weights"), Slot("dweights")])
    assert not contract.was_set(layer, Slot("weights"), before)
    layer.weights[0, 0] = 5.0
    assert contract.was_set(layer, Slot("weights"), before)
    layer.dweights = np.zeros((2, 3))
    assert contract.was_set(layer, Slot("dweights"), before)


def test_the_training_flag_is_passed_when_forward_takes_it():
    assert contract.forward_keywords(Layer()) == {"training": True}
    assert contract.forward_keywords(Loss(), what="forward(y_pred, y_true)") == {}


def test_randomness_is_replayed_and_restored():
    layer = Layer()
    randomness = contract.Randomness([layer])
    start = randomness.snapshot()
    first = layer.rng.random(), np.random.random()
    randomness.replay(start)
    assert (layer.rng.random(), np.random.random()) == first
    randomness.restore()
    assert (layer.rng.random(), np.random.random()) == first


def test_a_raising_method_is_one_line_naming_it():
    class Broken:
        def backward(self, dvalues):
            raise ValueError("shapes (4,3) and (4,3) not aligned\nmore detail")

    with pytest.raises(UserCodeError, match=r"^your backward raised ValueError: shapes \(4,3\) "
                                            r"and \(4,3\) not aligned$"):
        contract.call(Broken(), "backward", np.ones(2))
    with pytest.raises(UserCodeError, match=r"^Broken has no method forward\(\) \(its methods: "
                                            r"backward\)$"):
        contract.call(Broken(), "forward", np.ones(2))


def test_book_penalties_read_the_strengths():
    layer = Layer()
    layer.biases = np.array([[1.0, -2.0, 0.0]])
    layer.weight_regularizer_l2, layer.bias_regularizer_l1 = 0.5, 0.25
    assert contract.book_regularizers(layer) == {"weights": (0.0, 0.5), "biases": (0.25, 0.0)}
    assert contract.book_penalty(layer) == 0.5 * 6.0 + 0.25 * 3.0
