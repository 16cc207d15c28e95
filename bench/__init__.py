"""``nnfs-ref bench``: what one training epoch costs, seed vs manual vs compiled JAX.

- :mod:`bench.epochs`: one epoch (forward, loss, accuracy, backward, SGD
  update) for each implementation.
- :mod:`bench.worker`: one measurement, in a process of its own.
- :mod:`bench.run`: the sweep, the table, ``--json`` and ``--plot``.
"""
