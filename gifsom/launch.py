"""The ``gifsom`` program's first step: what must be set or started before numpy loads, then the command line."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable

from .ffmpeg import describe_early

#: numpy's OpenBLAS starts a thread per core when numpy is imported, and each spins for about 0.1 s
#: of CPU before it sleeps. gifsom's compiled kernels run threads of their own and numpy's matrix
#: products are only ever 3x3 here, so the command line asks OpenBLAS for none (unless the user has
#: set this variable): on a two-core machine that gave a 60-frame conversion 0.12 s of CPU back.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "1")
#: An OpenMP thread that finishes its share of a kernel spins for a while, waiting for more work, before it
#: sleeps. The program runs kernels from several threads at once (the fit's tries, the pipeline's stages),
#: so on few cores the spinning threads of one kernel take the CPU from the others. Asked to sleep at once
#: (read by the OpenMP runtime when the first kernel loads), on two cores, in interleaved runs on 2026-12-02:
#: ``--max-size 7234`` on the screen recording 0.76 to 0.69 s and 1.13 to 0.96 s of CPU (medians of seven),
#: the pan video 1.60 to 1.45 s (of five), and the other bench clips within noise (screen-x10 0.60 and 0.57,
#: small 0.357 and 0.354, the cartoon 0.369 and 0.367 s).
OPENMP_WAIT = ("OMP_WAIT_POLICY", "PASSIVE")
#: glibc's allocator, as the command line sets it once the pipeline has loaded (``mallopt``'s option number and
#: value): freed memory is kept for later allocations up to 256 MiB at the top of the heap (``M_TRIM_THRESHOLD``),
#: and blocks under 4 MiB come from the heap, not from mappings of their own (``M_MMAP_THRESHOLD``). A
#: conversion frees and allocates blocks of a frame's size all along; by default the allocator often gave
#: their pages back and faulted in fresh ones. Medians of 25 interleaved runs (2 cores, 2026-12-05, the same
#: GIFs): the dark star field 0.472 against 0.486 s; the same settings given by the environment before the
#: interpreter starts took 8 ms off it in three more loops, and 7 to 16 ms off the sky, for 1 to 2 MB more
#: peak memory.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3      # mallopt's option numbers (glibc's malloc.h)
ALLOCATOR_SETTINGS = ((M_TRIM_THRESHOLD, 256 << 20), (M_MMAP_THRESHOLD, 4 << 20))
#: Exit code after Ctrl+C (128 + SIGINT, as shells report it), and the one line said then.
INTERRUPTED_EXIT = 130
INTERRUPTED_LINE = "gifsom: interrupted; no output was written"


def entry_point() -> None:
    """Run ``gifsom`` with the process's arguments and exit with its code.

    Ctrl+C while the program loads (before the command line takes over Ctrl+C) ends it with the command
    line's one line and exit code, not a traceback; ffmpeg started early is stopped at exit.
    """
    try:
        command_line = _load()
    except KeyboardInterrupt:
        say(INTERRUPTED_LINE)
        sys.exit(INTERRUPTED_EXIT)
    command_line()


def say(line: str) -> None:
    """Print one line on stderr, if there is still a stderr to print on (a closed terminal has none)."""
    try:
        print(line, file=sys.stderr)
    except (OSError, ValueError, AttributeError):
        pass


def _load() -> Callable[[], None]:
    """Start ffmpeg on the inputs, set the threads' environment and import the command line; give its entry."""
    # ffmpeg describes the videos to convert, and starts decoding the first, while numpy and the pipeline load
    describe_early(sys.argv[1:])
    if "numpy" not in sys.modules:
        # set before numpy and gifsom's kernels load, unless the user has set them; the library leaves the
        # environment of the programs that import it alone
        os.environ.setdefault(*BLAS_THREADS)
        os.environ.setdefault(*OPENMP_WAIT)
    # Importing numpy, Pillow and the pipeline makes some 39,000 objects the cyclic garbage collector tracks,
    # nearly all living as long as the program, and it ran about 40 times over them while they were made: 5
    # to 9 ms of each run (2 cores, 2026-12-03). It is paused for the imports, and what they made is frozen
    # out of its later passes.
    gc.disable()
    try:
        from .cli import entry_point as command_line
    finally:
        gc.freeze()
        gc.enable()
    _keep_freed_memory()
    return command_line


def _keep_freed_memory() -> None:
    """Set glibc's allocator as :data:`ALLOCATOR_SETTINGS` says, on Linux where the C library has ``mallopt``
    (the library leaves the allocator of the programs that import it alone). ctypes is loaded by numpy
    already."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):        # a C library without mallopt
        return
    for option, value in ALLOCATOR_SETTINGS:
        mallopt(option, value)
