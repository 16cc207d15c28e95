"""Check your own layer, loss, network or function pair: is its hand-written backward right?

>>> from nnfs_ref import check_layer
>>> report = check_layer(layer, inputs)          # finite differences, no JAX needed
>>> report.ok, report.verdict
>>> print(report)

Importing it loads NumPy only: JAX only when a JAX twin is given (``fn=``).

- :mod:`nnfs_ref.check.settings`: how a check judges (one frozen object).
- :mod:`nnfs_ref.check.compare`: the comparison rule, one row per array.
- :mod:`nnfs_ref.check.contract`: how the user's object is called (the book's
  contracts, detected), its randomness pinned, its parameters found.
- :mod:`nnfs_ref.check.adapters`: objects of other shapes (activation and loss objects,
  chapter 22's fused loss, optimizer objects) read through the book's contract.
- :mod:`nnfs_ref.check.numeric`: finite differences with a bound per estimate.
- :mod:`nnfs_ref.check.judge`: one gradient judged entry by entry or along directions.
- :mod:`nnfs_ref.check.session`: one check, from its first call to its report.
- :mod:`nnfs_ref.check.layer`, :mod:`~nnfs_ref.check.loss`,
  :mod:`~nnfs_ref.check.network`, :mod:`~nnfs_ref.check.pairs`: the front ends.
- :mod:`nnfs_ref.check.engine`: ``check_engine`` for a scalar or tensor autograd engine,
  on the expressions of :mod:`nnfs_ref.check.expressions`.
- :mod:`nnfs_ref.check.twin`: a JAX twin as the oracle.
- :mod:`nnfs_ref.check.search`: a Hypothesis search for a failing case.
- :mod:`nnfs_ref.check.data`: a loss's random data, of the kinds it takes.
- :mod:`nnfs_ref.check.report`: the report, its diagnoses and verdict.
"""

from nnfs_ref.check.contract import UserCodeError
from nnfs_ref.check.engine import EngineReport, assert_engine, check_engine
from nnfs_ref.check.layer import assert_layer_gradients, check_layer
from nnfs_ref.check.loss import assert_loss_gradients, check_loss
from nnfs_ref.check.network import check_network
from nnfs_ref.check.pairs import assert_functions, check_functions, check_loss_function
from nnfs_ref.check.report import CheckReport
from nnfs_ref.check.settings import Settings

__all__ = ["CheckReport", "EngineReport", "Settings", "UserCodeError", "assert_engine",
           "assert_functions", "assert_layer_gradients", "assert_loss_gradients",
           "check_engine", "check_functions", "check_layer", "check_loss",
           "check_loss_function", "check_network"]
