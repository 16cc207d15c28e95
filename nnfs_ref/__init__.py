"""nnfs-ref: the book's network with hand-written backward passes, and a checker for yours.

>>> from nnfs_ref import check_layer
>>> print(check_layer(layer, inputs))

The checker's public names (see :mod:`nnfs_ref.check`) and ``__version__`` are
loaded when first used, so that the ``nnfs-ref`` command starts without NumPy.
"""

#: The checker's public names, from :mod:`nnfs_ref.check`.
CHECKER = ("CheckReport", "EngineReport", "Settings", "UserCodeError", "assert_engine",
           "assert_functions", "assert_layer_gradients", "assert_loss_gradients",
           "check_engine", "check_functions", "check_layer", "check_loss",
           "check_loss_function", "check_network")

__all__ = list(CHECKER)


def installed_version():
    """The installed distribution's version, looked up when asked for (importlib.metadata
    costs every import 0.04 s); "(not installed)" in a checkout that is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nnfs-ref")
    except PackageNotFoundError:
        return "(not installed)"


def __getattr__(name):
    if name in CHECKER:
        from nnfs_ref import check

        return getattr(check, name)
    if name == "__version__":
        return installed_version()
    raise AttributeError(f"module 'nnfs_ref' has no attribute {name!r}")


def __dir__():
    return sorted(__all__ + ["__version__"])
