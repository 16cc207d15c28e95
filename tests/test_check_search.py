"""nnfs_ref.check.search: Hypothesis searches for a failing case, shrinks it, prints a snippet."""

import bookstyle as B
import numpy as np
import pytest

from nnfs_ref import check_layer
from nnfs_ref.check.search import gradient_property, search


def test_search_finds_a_batch_of_one_bug_and_gradient_property_reports_it():
    class Squeezed(B.DenseW):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dinputs = self.dinputs.squeeze(axis=0) if len(dvalues) == 1 else self.dinputs
    found = search(Squeezed, examples=40)
    assert found.report is not None and found.exit_code == 1
    assert "inputs = np.full((1, 1), " in found.snippet or "inputs = np.array([[" in found.snippet
    with pytest.raises(AssertionError, match="dinputs has shape"):
        gradient_property(Squeezed, examples=40)()
    gradient_property(B.DenseW, examples=20)()  # a correct class passes
    gradient_property(B.Loss_MeanSquaredError, loss=True, data=("values", "values"),
                      examples=20)()


def test_shrinking_stops_at_its_budget_and_says_so():
    class AlwaysWrong(B.DenseW):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.db = 2 * self.db
    found = search(AlwaysWrong, examples=10, shrink_seconds=0)
    assert found.stopped == 0 and found.report.verdict == "fail"
    assert "shrinking stopped after 0 s: the smallest found by then" in found.text


def test_the_snippet_is_compact():
    from nnfs_ref.check.search import array_code
    for value in (np.zeros((16, 33)), np.tile([1.5, -2.0], (7, 1)), np.array([[1.0, 2.0]])):
        code = array_code(value)
        rebuilt = eval(code, {"np": np})
        assert rebuilt.shape == value.shape and rebuilt.dtype == value.dtype
        assert np.array_equal(rebuilt, value) and len(code) < 60


def test_the_same_seed_searches_the_same_cases_whatever_was_imported(tmp_path):
    import os
    import subprocess
    import sys

    script = tmp_path / "draws.py"
    script.write_text(
        "import sys, hashlib\n"
        "if sys.argv[1] == 'extra':\n"
        "    import decimal, fractions, sqlite3, email.mime.text, jax  # unrelated\n"
        "import numpy as np\n"
        "import bookstyle as B\n"
        "from nnfs_ref.check import search as S\n"
        "seen = []\n"
        "check = S.check_layer\n"
        "def spy(layer, inputs, **kw):\n"
        "    seen.append(hashlib.sha1(np.ascontiguousarray(inputs).tobytes()).hexdigest())\n"
        "    return check(layer, inputs, **kw)\n"
        "S.check_layer = spy\n"
        "S.search(B.Layer_Dense, examples=12, seed=3)\n"
        "print(' '.join(seen))\n")
    here = os.path.dirname(os.path.abspath(__file__))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([here, os.path.dirname(here)])}
    runs = [subprocess.run([sys.executable, str(script), kind], capture_output=True, text=True,
                           env=env, check=True).stdout.split() for kind in ("plain", "extra")]
    assert len(runs[0]) == 12 and runs[0] == runs[1]


@pytest.mark.parametrize("alpha, inputs", [
    (0.9999885559082031, np.array([[-100.0]] + [[0.0]] * 15)),  # a kink of 1e-5 at 0
    (0.0, np.full((1, 1), 2.2250738585e-313)),  # a kink too near the point for any step
    (0.0, np.full((33, 16), -2.225073858507203e-309)),  # subnormal inputs
])
def test_prelu_at_awkward_points_found_by_searches(alpha, inputs):
    layer = B.PReLU(inputs.shape[1])
    layer.alpha = np.full((1, inputs.shape[1]), alpha)
    report = check_layer(layer, inputs)
    assert report.ok, str(report)


SEARCHED = [(B.Layer_Dense, (), False, None), (B.DenseW, (), False, None),
            (B.DenseDict, (), False, None), (B.PReLU, (), False, None),
            (B.Activation_ReLU, (), False, None), (B.Activation_Softmax, (), False, None),
            (B.Activation_Sigmoid, (), False, None), (B.Layer_Dropout, (0.3,), False, None),
            (B.Loss_CategoricalCrossentropy, (), True, ("probabilities", "labels")),
            (B.Loss_CategoricalCrossentropy, (), True, ("probabilities", "onehot")),
            (B.Loss_BinaryCrossentropy, (), True, ("unit", "binary")),
            (B.Loss_MeanSquaredError, (), True, ("values", "values")),
            (B.Loss_MeanAbsoluteError, (), True, ("values", "values"))]


@pytest.mark.parametrize("cls, args, loss, data", SEARCHED,
                         ids=[f"{c[0].__name__}-{c[3]}" for c in SEARCHED])
def test_a_search_finds_no_false_alarm_on_correct_classes(cls, args, loss, data):
    """Batch 1, square and wide shapes, exact zeros (kinks), values up to 100, points
    next to log's singularity: a correct class must pass them all."""
    from nnfs_ref.check.search import search

    found = search(cls, args, loss=loss, data=data, examples=30)
    assert found.report is None, found.text
