"""JAX twins of :mod:`manual`, the random cases and ``nnfs-ref verify``.

- :mod:`reference.functions`: the seed's maths as pure JAX functions.
- :mod:`reference.optimizers`: the book's optimizer rules in JAX, and optax's.
- :mod:`reference.vjp`: a manual layer against ``jax.vjp`` of its twin.
- :mod:`reference.runtime`: float64, quick compilation, the compilation cache.
- :mod:`reference.cases`: every random case, in one place.
- :mod:`reference.verify`: the cases behind ``nnfs-ref verify``.

The checker for users' own code is :mod:`nnfs_ref.check` (``from nnfs_ref import
check_layer``). Verification runs in float64: call :func:`enable_x64` before any
array exists (importing this package does not change JAX's configuration).
"""

from reference.runtime import enable_x64, prepare_jax, require_x64
from reference.vjp import check_vjp, elementwise_vjp_of

__all__ = ["check_vjp", "elementwise_vjp_of", "enable_x64", "prepare_jax", "require_x64"]
