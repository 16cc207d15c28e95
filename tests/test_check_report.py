"""nnfs_ref.check.report: the diagnoses, the verdicts, the text and HTML forms."""

import bookstyle as B
import numpy as np
import pytest

from nnfs_ref import check_layer
from nnfs_ref.check.report import diagnose


@pytest.mark.parametrize("actual, expected, words", [
    (-np.arange(1.0, 7.0).reshape(2, 3), np.arange(1.0, 7.0).reshape(2, 3), "flipped sign"),
    (np.arange(1.0, 7.0).reshape(2, 3) * 8, np.arange(1.0, 7.0).reshape(2, 3),
     "yours = 8 x expected (the batch size 8"),
    (np.zeros((2, 3)), np.ones((2, 3)), "zero everywhere"),
    (np.arange(9.0).reshape(3, 3).T, np.arange(9.0).reshape(3, 3), "transposed"),
    (np.array([[1.0, np.nan]]), np.array([[1.0, 2.0]]), "1 of 2 entries are nan or inf"),
])
def test_diagnoses(actual, expected, words):
    assert words in diagnose(actual, expected, batch=8)


def test_nan_prints_as_nan():
    class NanBias(B.DenseW):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.db = self.db * np.nan
    text = str(check_layer(NanBias(3, 2), np.ones((4, 3))))
    assert "db                 (1, 2)  nan          nan" in text
    assert "yours nan vs expected" in text
