"""gifsom runs where SciPy is not installed.

numba compiles ``@``, ``np.dot`` and ``np.linalg`` into calls to SciPy's BLAS
and LAPACK, and SciPy is no dependency of gifsom: a kernel using them works on
a machine that happens to have SciPy and fails to compile on a fresh one. This
test compiles every kernel from scratch (an empty numba cache) with SciPy made
unimportable, and runs each stage of the pipeline once.
"""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import FIXTURES

SCRIPT = """
import sys
sys.modules["scipy"] = None            # "import scipy..." now raises ImportError, as without SciPy
import numpy as np
from PIL import Image
import gifsom

photo = np.asarray(Image.open(sys.argv[1]).convert("RGB"))
screen = [np.asarray(Image.open(path).convert("RGB")) for path in sys.argv[2:]]
for dither in ("none", "bayer4", "blue-noise", "floyd-steinberg", "sierra-lite", "atkinson"):
    indices, palette = gifsom.quantize(photo, colors=64, dither=dither)
    assert indices.max() < len(palette)
gifsom.learn_palette(photo, refine=False)
gifsom.learn_palette(screen)
gifsom.encode(screen, sys.argv[0] + ".gif", fps=10)
gifsom.encode(screen, sys.argv[0] + ".lossy.gif", fps=10, lossy=20, palette="scene")
print("ok")
"""


def test_every_kernel_compiles_and_runs_without_scipy(tmp_path):
    script = tmp_path / "no_scipy.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    screen = [str(FIXTURES / "screen" / f"frame_{i:03d}.png") for i in (1, 15, 30)]
    result = subprocess.run([sys.executable, str(script), str(FIXTURES / "photo.jpg"), *screen],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"
