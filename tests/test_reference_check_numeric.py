"""The finite-difference oracle: directions for large arrays, kinks, and the messages."""

import bookstyle as B
import numpy as np
import pytest

from nnfs_ref import check_layer
from nnfs_ref.check import numeric
from nnfs_ref.check.report import diagnose
from nnfs_ref.check.search import gradient_property, search

BIG = np.random.default_rng(5).normal(size=(32, 784))


class FlipOne(B.DenseW):
    def backward(self, dvalues):
        super().backward(dvalues)
        self.dW[3, 5] *= -1


def test_large_arrays_are_checked_along_directions():
    report = check_layer(B.DenseW(784, 64), BIG)
    assert report.ok, str(report)
    assert report.findings["dW"].method.directional
    assert report.findings["dW"].method.directions == 3
    assert report.findings["db"].method.kind == "entries"  # 64 entries: one by one
    assert "dW: checked along directions (3 random)" in str(report)


def test_one_wrong_entry_of_50176_is_caught_and_located():
    report = check_layer(FlipOne(784, 64), BIG)
    assert [c.name for c in report.failures] == ["dW"]
    check = report.failures[0]
    assert check.worst_index == (3, 5)
    assert check.actual_worst == pytest.approx(-check.expected_worst, rel=1e-6)
    assert "found by halving: (3, 5)" in str(report)


def test_entries_mode_and_directions_mode_agree_on_a_small_bug():
    x = np.random.default_rng(1).normal(size=(6, 5))
    for mode in ("entries", "directions"):
        assert check_layer(B.DenseW(5, 4), x, mode=mode).ok
        report = check_layer(FlipOne(5, 6), x, mode=mode)
        assert [c.name for c in report.failures] == ["dW"], (mode, str(report))


def test_a_relative_error_of_1e_minus_6_is_caught_along_directions():
    class Scaled(B.DenseW):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dW = self.dW * (1 + 1e-6)
    report = check_layer(Scaled(784, 64), BIG)
    assert [c.name for c in report.failures] == ["dW"]


def test_exact_zeros_in_a_large_input_are_kinks_checked_one_by_one():
    x = BIG[:4].copy()
    x[x < 0.3] = 0.0
    report = check_layer(B.Activation_ReLU(), x)
    assert report.ok, str(report)
    zeros = int((x == 0).sum())
    assert zeros > numeric.FALLBACK_LIMIT
    assert report.kinks == numeric.FALLBACK_LIMIT  # a sample of them, and the report says so
    assert f"{numeric.FALLBACK_LIMIT} sampled entries near 0 one by one" in str(report)

    class WrongAtZero(B.Activation_ReLU):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dinputs[self.inputs == 0] = 3 * dvalues[self.inputs == 0]
    assert [c.name for c in check_layer(WrongAtZero(), x).failures] == ["dinputs"]


def test_one_sided_derivatives_bracket_a_kink_and_only_a_kink():
    def f(v):
        return float(np.sum(np.abs(v)))
    x = np.array([0.0, 2.0])
    noise = numeric.measure_noise(f, x, f(x), np.random.default_rng(0))
    estimate = numeric.entrywise(f, x, [(0,), (1,)], noise)
    assert estimate.kink.tolist() == [True, False]
    assert estimate.lower[0] == pytest.approx(-1) and estimate.upper[0] == pytest.approx(1)
    assert estimate.central[1] == pytest.approx(1, abs=estimate.error[1])
    assert estimate.error[1] < 1e-9


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


def test_the_noise_is_read_off_the_function_not_its_value():
    # sum(d * (X @ W)) - c with |X| ~ 100: a value near 0 made of large terms; the measured
    # noise is compared with the true rounding error of the float64 sums (exact fractions)
    from fractions import Fraction
    rng = np.random.default_rng(2)
    X, W, d = rng.normal(size=(8, 6)) * 100, rng.normal(size=(6, 4)), rng.normal(size=(8, 4))
    c = float(np.sum(d * (X @ W)))

    def f(w):
        return float(np.sum(d * (X @ w))) - c

    def exact(w):
        return sum(Fraction(d[i, j]) * Fraction(X[i, k]) * Fraction(w[k, j])
                   for i in range(8) for j in range(4) for k in range(6)) - Fraction(c)
    points = [W * (1 + 1e-6 * t) for t in range(1, 13)]
    errors = np.array([f(w) - float(exact(w)) for w in points])
    true_sigma = float(np.std(errors))
    noise = numeric.measure_noise(f, W, f(W), np.random.default_rng(0),
                                  float(np.sum(np.abs(d * (X @ W)))))
    assert true_sigma / 4 < noise.sigma < 4 * true_sigma, (noise.sigma, true_sigma)
    assert noise.delta > 100 * np.finfo(float).eps * abs(f(W))  # |f| alone would allow less
    assert not noise.lowered


def test_a_float32_forward_is_told_and_checked_at_steps_that_fit():
    from bench.stress import Float32Dense
    rng = np.random.default_rng(0)
    layer = Float32Dense(rng.normal(size=(4, 3)), np.zeros((1, 3)))
    report = check_layer(layer, rng.normal(size=(6, 4)))
    assert report.ok, str(report)
    assert "forward computes in a lower precision than float64" in str(report)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_a_bias_is_differenced_exactly_at_any_scale(scale):
    from bench.stress import Dense
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 4)) * scale
    layer = Dense(rng.normal(size=(4, 3)) * scale, np.zeros((1, 3)))
    report = check_layer(layer, x)
    assert report.ok, str(report)
    bound, expected = report.findings["dbiases"].bound, report.findings["dbiases"].expected
    assert bound.shape == expected.shape == (1, 3) and bound.dtype == np.float64
    tolerance = 1e-7 * (np.abs(expected) + np.abs(expected).max())
    assert np.all(bound <= tolerance)  # no truncation error, and rounding within it

    class Off(Dense):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dbiases = self.dbiases * (1 + 1e-6)
    bad = check_layer(Off(layer.weights, np.zeros((1, 3))), x)
    assert [c.name for c in bad.failures] == ["dbiases"], str(bad)


def test_a_kink_next_to_the_point_is_not_taken_for_one():
    x = np.array([[1e-9, 0.7, -1.2, 2.0]])

    class Leaky:
        def forward(self, inputs):
            self.inputs = inputs
            self.output = np.where(inputs > 0, inputs, 0.1 * inputs)

        def backward(self, dvalues):
            self.dinputs = np.where(self.inputs > 0, 1.0, 0.1) * dvalues

    class OtherSide(Leaky):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dinputs[0, 0] = 0.1 * dvalues[0, 0]  # the slope beyond the kink, 1e-9 away

    good = check_layer(Leaky(), x)
    assert good.ok and good.kinks == 0, str(good)
    bad = check_layer(OtherSide(), x)
    assert [c.name for c in bad.failures] == ["dinputs"], str(bad)
    assert bad.failures[0].worst_index == (0, 0)


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


def test_a_forward_that_returns_float32_is_checked_not_refused():
    from bench.stress import Dense

    class Cast32(Dense):
        def forward(self, inputs):
            super().forward(inputs)
            self.output = self.output.astype(np.float32)

    class Off(Cast32):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dweights = self.dweights * (1 + 1e-3)
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=(1, 3))
    report = check_layer(Cast32(w, b), x)
    assert report.ok, str(report)
    assert "forward returns float32 for float64 inputs (a cast inside?)" in str(report)
    bad = check_layer(Off(w, b), x)
    assert [c.name for c in bad.failures] == ["dweights"], str(bad)

    class Rounds(Dense):
        def forward(self, inputs):
            super().forward(inputs)
            self.output = np.round(self.output).astype(np.int64)
    assert check_layer(Rounds(w, b), x).verdict == "cannot check"


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
