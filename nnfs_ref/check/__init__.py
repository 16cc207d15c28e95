"""Check your own layer, loss or network: is its hand-written backward pass right?

>>> from nnfs_ref import check_layer
>>> report = check_layer(layer, inputs)          # finite differences, no JAX needed
>>> report.ok, report.verdict
>>> print(report)

- :mod:`nnfs_ref.check.contract`: how the user's object is called (the
  book's contracts, detected), its randomness pinned, its parameters found.
- :mod:`nnfs_ref.check.numeric`: finite differences, entry by entry (with
  kinks) or along random directions.
- :mod:`nnfs_ref.check.core`: ``check_layer``, ``check_loss``.
- :mod:`nnfs_ref.check.network`: ``check_network``.
- :mod:`nnfs_ref.check.pairs`: ``check_functions`` / ``check_loss_function`` for
  forward/backward function pairs as course assignments write them.
- :mod:`nnfs_ref.check.search`: a Hypothesis search for a failing case.
- :mod:`nnfs_ref.check.report`: the report, its diagnoses and verdict.
"""

from nnfs_ref.check.contract import UserCodeError
from nnfs_ref.check.core import (
    assert_layer_gradients,
    assert_loss_gradients,
    check_layer,
    check_loss,
)
from nnfs_ref.check.network import check_network
from nnfs_ref.check.pairs import assert_functions, check_functions, check_loss_function
from nnfs_ref.check.report import CheckReport

__all__ = ["CheckReport", "UserCodeError", "assert_functions", "assert_layer_gradients",
           "assert_loss_gradients", "check_functions", "check_layer", "check_loss",
           "check_loss_function", "check_network"]
