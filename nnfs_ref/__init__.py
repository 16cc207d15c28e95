"""The ``nnfs-ref`` command line (imports JAX only for the commands that need it)."""
