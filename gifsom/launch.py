"""The ``gifsom`` program's first step: what must be set before numpy loads, then the command line."""

from __future__ import annotations

import os
import sys

#: numpy's OpenBLAS starts a thread per core when numpy is imported, and each spins for about 0.1 s
#: of CPU before it sleeps. gifsom's compiled kernels run threads of their own and numpy's matrix
#: products are only ever 3x3 here, so the command line asks OpenBLAS for none (unless the user has
#: set this variable): on a two-core machine that gave a 60-frame conversion 0.12 s of CPU back.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "1")


def entry_point() -> None:
    """Run ``gifsom`` with the process's arguments and exit with its code."""
    if "numpy" not in sys.modules:
        os.environ.setdefault(*BLAS_THREADS)
    from .cli import entry_point as command_line

    command_line()
