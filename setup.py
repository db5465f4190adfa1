"""Builds gifsom's compiled kernels (Cython, with OpenMP where the compiler has it); metadata is in pyproject.toml."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

ROOT = Path(__file__).resolve().parent


def openmp_flags() -> tuple[list[str], list[str]]:
    """Compile and link flags for OpenMP: gcc and clang on Linux take -fopenmp; elsewhere run on one thread."""
    if os.environ.get("GIFSOM_NO_OPENMP") or sys.platform == "darwin":
        return [], []
    if sys.platform == "win32":
        return ["/openmp"], []
    return ["-fopenmp"], ["-fopenmp"]


def extensions() -> list[Extension]:
    compile_openmp, link_openmp = openmp_flags()
    optimise = ["/O2"] if sys.platform == "win32" else ["-O3"]
    modules = []
    for source in sorted(ROOT.glob("gifsom/**/*.pyx")):
        relative = source.relative_to(ROOT)
        name = ".".join(relative.with_suffix("").parts)
        modules.append(Extension(name, [str(relative)], extra_compile_args=optimise + compile_openmp,
                                 extra_link_args=link_openmp))
    return modules


setup(ext_modules=cythonize(extensions(), compiler_directives={"language_level": 3}, quiet=True))
