"""The ``nnfs-ref`` command line (imports JAX only for the commands that need it)."""


def __getattr__(name):
    # the version is looked up when asked for (importlib.metadata costs every import 0.04 s)
    if name == "__version__":
        from nnfs_ref.cli import _version

        return _version()
    raise AttributeError(f"module 'nnfs_ref' has no attribute {name!r}")
