"""nnfs_ref.check.settings: one frozen object holds how a check judges."""

import dataclasses

import numpy as np
import pytest

from nnfs_ref import Settings, check_layer
from nnfs_ref.check.compare import RTOL, SCALE_TOL
from nnfs_ref.check.settings import FD_RTOL, FD_SCALE_TOL, FD_STEP, KINK_MARGIN


def test_defaults_follow_the_oracle():
    fd, twin = Settings.of(), Settings.of(twin=True)
    assert (fd.rtol, fd.scale_tol) == (FD_RTOL, FD_SCALE_TOL) == (1e-7, 1e-7)
    assert (twin.rtol, twin.scale_tol) == (RTOL, SCALE_TOL) == (1e-9, 1e-12)
    assert (fd.atol, fd.mode, fd.seed, fd.step, fd.kink_margin) == \
        (0.0, "auto", 0, FD_STEP, KINK_MARGIN)
    # a tolerance given as None takes the default, one given is kept
    assert Settings.of(twin=True, rtol=None, scale_tol=1e-3).scale_tol == 1e-3


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().rtol = 1.0


@pytest.mark.parametrize("fields, words", [
    ({"rtol": -1.0}, "rtol must be a finite number >= 0, got -1.0"),
    ({"scale_tol": float("inf")}, "scale_tol must be a finite number >= 0, got inf"),
    ({"atol": "0"}, "atol must be a finite number >= 0, got '0'"),
    ({"mode": "fast"}, "mode must be one of auto, entries, directions, got 'fast'"),
    ({"seed": -1}, "seed must be an integer >= 0, got -1"),
    ({"seed": 1.5}, "seed must be an integer >= 0, got 1.5"),
    ({"step": 2.0}, "step must be between 0 and 1"),
])
def test_bad_settings_are_refused_by_name(fields, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        Settings(**fields)


def test_the_public_functions_refuse_bad_settings_before_calling_the_user():
    class Layer:
        calls = 0

        def forward(self, inputs):
            Layer.calls += 1
            self.output = inputs

        def backward(self, dvalues):
            self.dinputs = dvalues

    with pytest.raises(ValueError, match="mode must be one of"):
        check_layer(Layer(), np.ones((2, 2)), mode="fast")
    assert Layer.calls == 0


def test_compare_uses_the_settings_tolerances():
    loose, tight = Settings(rtol=1e-3, scale_tol=0.0), Settings(rtol=1e-9, scale_tol=0.0)
    expected = np.array([[1.0, 2.0]])
    actual = expected * (1 + 1e-6)
    assert loose.compare("d", actual, expected).ok
    assert not tight.compare("d", actual, expected).ok
    # atol: the settings' own unless given
    assert Settings(rtol=0.0, scale_tol=0.0, atol=1e-5).compare("d", actual, expected).ok
    assert not Settings(rtol=0.0, scale_tol=0.0, atol=1e-5).compare("d", actual, expected,
                                                                     atol=0.0).ok


def test_at_least_raises_only_the_tolerances_below_the_floor():
    raised = Settings(rtol=1e-3, scale_tol=1e-9, seed=4).at_least(1e-6)
    assert (raised.rtol, raised.scale_tol, raised.seed) == (1e-3, 1e-6, 4)


def test_the_step_and_the_kink_margin_reach_the_finite_differences():
    # |x| has a kink at 0: a margin so large that no gap is ever told a kink makes the
    # checker judge the subgradient 0 by the central value, which is 0 too
    class Abs:
        def forward(self, inputs):
            self.inputs, self.output = inputs, np.abs(inputs)

        def backward(self, dvalues):
            self.dinputs = dvalues * np.sign(self.inputs)

    x = np.array([[0.0, 1.5, -2.0]])
    told = check_layer(Abs(), x)
    assert told.ok and told.kinks == 1, str(told)
    blind = check_layer(Abs(), x, mode="entries")
    assert blind.kinks == 1
    from nnfs_ref.check import numeric

    f = lambda v: float(np.sum(np.abs(v)))  # noqa: E731
    noise = numeric.measure_noise(f, x, f(x), np.random.default_rng(0))
    wide = numeric.entrywise(f, x, [(0, 0)], noise, settings=Settings(kink_margin=1e30))
    assert not wide.kink[0, 0]
    coarse = numeric.entrywise(f, x, [(0, 1)], noise, settings=Settings(step=2.0 ** -4))
    assert coarse.lines[(0, 1)].settings.step == 2.0 ** -4
    assert abs(coarse.central[0, 1] - 1.0) <= coarse.error[0, 1]
