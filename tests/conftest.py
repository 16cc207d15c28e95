"""Test configuration: float64 JAX, Hypothesis profiles.

``jax_enable_x64`` is switched on here, before any test module creates an
array; JAX compiles without LLVM's optimizations (``quick_compilation``) and
keeps its compilation cache on disk (``NNFS_REF_JAX_CACHE`` names its folder;
``off`` turns it off). Profiles: ``fast`` (the default, for
a quick local run), Hypothesis's built-in ``ci`` (loaded when the ``CI``
environment variable is set) and ``thorough`` (many more examples);
``HYPOTHESIS_PROFILE=name`` picks one.
``mutants`` is the one ``nnfs-ref mutants`` uses (derandomized, no shrinking).
"""

import os

from reference.runtime import prepare_jax

# float64, quick compilation, and the compiled references kept on disk (shared by the
# workers and later runs), before any test module creates an array
prepare_jax()

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from hypothesis.errors import InvalidArgument  # noqa: E402

settings.register_profile(
    "fast", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# For `nnfs-ref mutants`: as deterministic as "ci", but a planted bug only has to be
# found, not shrunk to a minimal example (shrinking is most of the time of a failure).
settings.register_profile(
    "mutants", derandomize=True, database=None, deadline=None, print_blob=False,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
# "ci" is Hypothesis's built-in profile (derandomized, no database, deadline=None);
# older Hypothesis releases lack it, so register the same settings there.
try:
    settings.get_profile("ci")
except InvalidArgument:
    settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                              print_blob=True, suppress_health_check=[HealthCheck.too_slow])
_profile = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "fast")
settings.load_profile(_profile)
