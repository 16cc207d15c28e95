"""nnfs_ref.check.network: every gradient of a network against its total loss; the culprit named."""

import bookstyle as B
import numpy as np
from helpers import planted

from nnfs_ref import check_network

RNG = np.random.default_rng(0)
X = RNG.normal(size=(6, 4))
LABELS = np.array([0, 2, 1, 1, 0, 2])


def test_a_network_names_its_first_wrong_layer():
    def network(relu=B.Activation_ReLU):
        np.random.seed(3)
        return [B.Layer_Dense(4, 5), relu(), B.Layer_Dropout(0.2),
                B.Layer_Dense(5, 3, weight_regularizer_l2=1e-2)]
    loss = B.Activation_Softmax_Loss_CategoricalCrossentropy
    report = check_network(network(), loss(), X, LABELS)
    assert report.ok, str(report)
    assert report.culprit is None

    bad = planted(B, "self.dinputs = np.where(self.inputs > 0, dvalues, 0.0)",
                  "self.dinputs = np.where(self.inputs > 0, 0.0, dvalues)").Activation_ReLU
    report = check_network(network(bad), loss(), X, LABELS)
    assert report.culprit == "layers[1] (Activation_ReLU)"
    assert "the first wrong backward going back from the loss is layers[1]" in str(report)
    assert {c.name for c in report.failures} == {"layers[1].dinputs", "layers[0].dinputs",
                                                 "layers[0].dweights", "layers[0].dbiases"}
