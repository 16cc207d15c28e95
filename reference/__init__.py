"""JAX twins of :mod:`manual` and the machinery that compares the two.

- :mod:`reference.functions`: the seed's maths as pure JAX functions.
- :mod:`reference.compare`: VJP checks, finite differences, readable reports.
- :mod:`reference.verify`: the random cases behind ``nnfs-ref verify``.
- :mod:`reference.check`: ``check_layer`` / ``check_loss`` / ``check_network`` for users'
  own code, as they write it.

Verification runs in float64: call :func:`enable_x64` before any array
exists (importing this package does not change JAX's configuration).
"""

from reference.check import (
    CheckReport,
    UserCodeError,
    assert_functions,
    assert_layer_gradients,
    assert_loss_gradients,
    check_functions,
    check_layer,
    check_loss,
    check_loss_function,
    check_network,
)
from reference.compare import (
    RTOL,
    SCALE_TOL,
    GradientCheck,
    Report,
    central_difference,
    check_vjp,
    compare,
    enable_compilation_cache,
    enable_x64,
    format_table,
    jit_of,
    require_x64,
    value_and_grad_of,
    vjp_of,
)

__all__ = [
    "CheckReport",
    "assert_layer_gradients",
    "assert_loss_gradients",
    "check_layer",
    "check_loss",
    "check_network",
    "check_functions",
    "check_loss_function",
    "assert_functions",
    "UserCodeError",
    "SCALE_TOL",
    "RTOL",
    "GradientCheck",
    "Report",
    "central_difference",
    "check_vjp",
    "compare",
    "enable_compilation_cache",
    "enable_x64",
    "format_table",
    "jit_of",
    "require_x64",
    "value_and_grad_of",
    "vjp_of",
]
