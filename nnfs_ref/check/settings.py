"""How a check judges, in one frozen object built once and passed down.

>>> settings = Settings(rtol=1e-6)            # finite differences, a looser rtol
>>> Settings.of(twin=True).rtol               # a JAX twin's float64 default
1e-09

Every checker function below the public entry points, and every case of
``nnfs-ref verify``, takes a :class:`Settings` instead of its fields.
"""

import dataclasses
import math

from nnfs_ref.check.compare import RTOL, SCALE_TOL, compare

#: Default tolerances of a finite-difference check: a 1e-6 relative error is caught.
FD_RTOL = 1e-7
FD_SCALE_TOL = 1e-7
#: Relative first step of the finite differences' ladder (about 7.6e-6): a power of two, as
#: every entry's size is, so that ``x + h`` is exact and the step taken is the step meant.
FD_STEP = 2.0 ** -17
#: A kink is a gap between the one-sided derivatives of this many times their rounding bound.
KINK_MARGIN = 3.0
#: Finite differences entry by entry, along random directions, or chosen by size.
MODES = ("auto", "entries", "directions")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Tolerances, the finite-difference mode, the seed, and the step and kink policy.

    An entry agrees when ``|a - e| <= rtol |e| + scale_tol max|e| + atol`` (plus, for
    finite differences, the estimate's own error bound). ``seed`` draws the upstream
    gradient ``dvalues`` and the random directions. ``step`` is the first relative step
    of the ladder; ``kink_margin`` how many rounding bounds apart the one-sided
    derivatives must be for a kink to be declared.
    """

    rtol: float = FD_RTOL
    scale_tol: float = FD_SCALE_TOL
    atol: float = 0.0
    mode: str = "auto"
    seed: int = 0
    step: float = FD_STEP
    kink_margin: float = KINK_MARGIN

    def __post_init__(self):
        for name in ("rtol", "scale_tol", "atol", "step", "kink_margin"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not 0 < self.step < 1:
            raise ValueError(f"step must be between 0 and 1 (relative to each entry), got "
                             f"{self.step!r}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")

    @classmethod
    def of(cls, twin: bool = False, *, rtol: float | None = None,
           scale_tol: float | None = None, **fields) -> "Settings":
        """Settings with the defaults of the oracle: finite differences ``FD_RTOL``,
        ``FD_SCALE_TOL``; a JAX twin (``twin``) float64's ``RTOL``, ``SCALE_TOL``. A
        tolerance given as None takes the default."""
        default_rtol, default_scale = (RTOL, SCALE_TOL) if twin else (FD_RTOL, FD_SCALE_TOL)
        return cls(rtol=default_rtol if rtol is None else rtol,
                   scale_tol=default_scale if scale_tol is None else scale_tol, **fields)

    def compare(self, name, actual, expected, scale=None, atol=None):
        """:func:`nnfs_ref.check.compare.compare` at these tolerances (``atol`` None: this
        object's)."""
        return compare(name, actual, expected, self.rtol, self.scale_tol, scale,
                       self.atol if atol is None else atol)

    def at_least(self, floor):
        """These settings with ``rtol`` and ``scale_tol`` raised to ``floor`` where below it
        (a forward computing in a lower precision)."""
        return dataclasses.replace(self, rtol=max(self.rtol, floor),
                                   scale_tol=max(self.scale_tol, floor))


#: The finite differences' defaults.
DEFAULT = Settings()
