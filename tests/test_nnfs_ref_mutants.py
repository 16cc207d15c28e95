"""The mutation catalog: every planted bug applies, and verify catches each.

That the property tests catch each one too is shown by ``nnfs-ref mutants``
(run by .ci/run after this suite: a pytest process per mutant); here one
mutant goes through that path as a smoke test.
"""

import os

import numpy as np
import pytest

import manual
from nnfs_ref import mutants

TESTS = os.path.dirname(os.path.abspath(__file__))
#: The catalogue's flattened-dbiases mutant (the seed's keepdims=0).
FLATTENED = next(i for i, m in enumerate(mutants.CATALOG) if "flattened dbiases" in m.name)


def test_the_catalog_is_large_and_every_patch_applies_once():
    assert len(mutants.CATALOG) >= 15
    assert len({(m.target, m.name) for m in mutants.CATALOG}) == len(mutants.CATALOG)
    for mutant in mutants.CATALOG:
        assert callable(mutants.mutate(mutant))  # raises unless the snippet occurs once
        assert os.path.exists(os.path.join(TESTS, mutant.tests))  # named after its module
    assert {os.path.basename(p) for p in mutants.default_tests(TESTS)} >= {
        "test_manual_layers.py", "test_manual_losses.py", "test_errata.py", "test_network.py"}


def test_planting_is_undone():
    original = manual.Layer_Dense.backward
    with mutants.planted(mutants.CATALOG[FLATTENED]):
        layer = manual.Layer_Dense(2, 3)
        layer.forward(np.ones((4, 2)))
        layer.backward(np.ones((4, 3)))
        assert layer.dbiases.shape == (3,)
    assert manual.Layer_Dense.backward is original


@pytest.mark.parametrize("index", range(len(mutants.CATALOG)),
                         ids=[m.describe() for m in mutants.CATALOG])
def test_verify_catches_every_mutant(index):
    assert mutants.caught_by_verify(mutants.CATALOG[index], examples=3)


def test_the_test_suite_path_catches_a_mutant():
    caught, first = mutants.caught_by_tests(FLATTENED, mutants.default_tests(TESTS))
    assert caught and first.startswith("test_dense")


def test_a_missing_pytest_is_an_error_not_a_catch(tmp_path, monkeypatch):
    """A half-installed environment: the child cannot import pytest. Neither the baseline
    nor a mutant may count that as a failing test."""
    fake = tmp_path / "pytest"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named pytest (simulated)')\n")
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    with pytest.raises(mutants.BaselineError, match="the tests cannot run: cannot import"):
        mutants.baseline(mutants.default_tests(TESTS))
    caught, why = mutants.caught_by_tests(FLATTENED, mutants.default_tests(TESTS))
    assert not caught and why.startswith("pytest exit 97")
