"""``python -m nnfs_ref``: the ``nnfs-ref`` command.

``-m`` puts the working folder first on the path; it is dropped (unless the project
itself is run from there, uninstalled), so that a user's own ``manual.py``,
``reference.py`` or ``bench.py`` there cannot stand in for the project's.
"""

import os
import sys

_here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.getcwd() != _here:
    del sys.path[0]

from nnfs_ref.cli import main  # noqa: E402

sys.exit(main())
