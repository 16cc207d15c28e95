"""The JAX side of the comparisons: float64 enforced, one compiled program for every shape."""

import numpy as np
import pytest

from reference import require_x64


def test_require_x64_passes_under_the_test_config():
    require_x64()  # conftest enables it; the reference refuses to run in float32


@pytest.mark.parametrize("shape", [(1, 5), (7, 1), (4, 4), (3,)])
def test_elementwise_vjp_of_pads_without_changing_a_result(shape):
    from nnfs_ref.check.twin import vjp_of
    from reference import functions as F
    from reference.vjp import elementwise_vjp_of

    rng = np.random.default_rng(5)
    inputs = np.where(rng.random(shape) < 0.3, 0.0, rng.normal(size=shape))  # ReLU's kink too
    mask = rng.choice([0.0, 2.0], size=shape)
    cotangent = rng.normal(size=shape)
    for fn, params in [(F.relu_layer, {}), (F.sigmoid_layer, {}),
                       (F.dropout_layer, {"mask": mask})]:
        output, (dparams, dinputs) = elementwise_vjp_of(fn, 16)(params, inputs, cotangent)
        want_output, (want_dparams, want_dinputs) = vjp_of(fn)(params, inputs, cotangent)
        for got, want in [(output, want_output), (dinputs, want_dinputs)] + [
                (dparams[k], want_dparams[k]) for k in params]:
            assert got.shape == shape and got.dtype == np.float64
            # the same entries (a vectorized exp may round a padded array's differently)
            np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


def test_elementwise_vjp_of_refuses_more_entries_than_its_length():
    from reference import functions as F
    from reference.vjp import elementwise_vjp_of

    with pytest.raises(ValueError, match=r"at most 16 entries, got inputs of shape \(4, 5\)"):
        elementwise_vjp_of(F.relu_layer, 16)({}, np.ones((4, 5)), np.ones((4, 5)))
