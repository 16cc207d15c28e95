"""nnfs_ref.check.adapters: objects of other shapes read through the book's contract."""

import conventions as C
import numpy as np
from test_check_contract import Layer, Loss

from nnfs_ref.check import adapters


def test_a_loss_is_told_by_its_backward_on_a_class_or_an_instance():
    assert adapters.is_loss(Loss) and adapters.is_loss(Loss())
    assert not adapters.is_loss(Layer) and not adapters.is_loss(Layer())
    assert not adapters.is_loss(object())  # no backward at all


def test_objects_of_other_shapes_are_read_through_an_adapter():
    assert adapters.is_loss(C.SquaredError) and adapters.is_loss(C.CrossEntropy())
    assert not adapters.is_loss(C.Tanh) and not adapters.is_loss(C.SteppingLinear)
    layer, note = adapters.as_layer(C.Tanh())
    assert isinstance(layer, adapters.Activation) and "fn(x)" in note
    plain = Layer()
    assert adapters.as_layer(plain) == (plain, None)  # the book's contract: as it is


def test_a_stand_in_records_what_the_optimizer_is_handed_and_steps_nothing():
    layer = C.OptimizedDense(3, 2)
    optimizer, weights = layer.optimizer, layer.W.copy()
    installed = adapters.Recorder.install(layer)
    assert list(installed) == ["optimizer"] and layer.optimizer is not optimizer
    layer.forward(np.ones((4, 3)))
    layer.backward(np.ones((4, 2)))
    adapters.Recorder.uninstall(layer, installed)
    assert layer.optimizer is optimizer and np.array_equal(layer.W, weights)
    grad = adapters.Recorder.gradient_of(installed, layer.W)
    assert grad.shape == (3, 2) and np.allclose(grad, 4.0)
