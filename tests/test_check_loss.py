"""nnfs_ref.check.loss: check_loss against the gradient of the mean sample loss."""

import numpy as np

import manual
from nnfs_ref import check_loss
from reference import functions as F


class NoNLoss(manual.Loss_CategoricalCrossentropy):
    def backward(self, dvalues, y_true):
        super().backward(dvalues, y_true)
        self.dinputs = self.dinputs * len(dvalues)  # forgot the 1/N


def test_wrong_loss_is_caught():
    rng = np.random.default_rng(5)
    y_pred, y = rng.dirichlet(np.ones(3), size=4), rng.integers(0, 3, size=4)
    for fn in (None, F.cce_loss):
        report = check_loss(NoNLoss(), y_pred, y, fn=fn)
        assert [c.name for c in report.failures] == ["dinputs"]
