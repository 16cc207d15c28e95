"""Check your own layer, loss or network: is its hand-written backward pass right?

>>> from reference import check_layer
>>> report = check_layer(layer, inputs)          # finite differences, no JAX needed
>>> report.ok, report.verdict
>>> print(report)

- :mod:`reference.check.contract`: how the user's object is called (the
  book's contracts, detected), its randomness pinned, its parameters found.
- :mod:`reference.check.numeric`: finite differences, entry by entry (with
  kinks) or along random directions.
- :mod:`reference.check.core`: ``check_layer``, ``check_loss``.
- :mod:`reference.check.network`: ``check_network``.
- :mod:`reference.check.pairs`: ``check_functions`` / ``check_loss_function`` for
  forward/backward function pairs as course assignments write them.
- :mod:`reference.check.search`: a Hypothesis search for a failing case.
- :mod:`reference.check.report`: the report, its diagnoses and verdict.
"""

from reference.check.contract import UserCodeError
from reference.check.core import (
    assert_layer_gradients,
    assert_loss_gradients,
    check_layer,
    check_loss,
)
from reference.check.network import check_network
from reference.check.pairs import assert_functions, check_functions, check_loss_function
from reference.check.report import CheckReport

__all__ = ["CheckReport", "UserCodeError", "assert_functions", "assert_layer_gradients",
           "assert_loss_gradients", "check_functions", "check_layer", "check_loss",
           "check_loss_function", "check_network"]
