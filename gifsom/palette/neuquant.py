"""NeuQuant: Anthony Dekker's 1-D Kohonen self-organizing map (1994), compiled.

The compiled loop (``_neuquant_cy.pyx``) follows the published algorithm step for step, in its integer arithmetic
and with its constants: neurons start on the grey ramp, the learning rate and
neighbourhood radius shrink in 100 cycles, and a bias/frequency "contest" picks
the neuron to move so that neurons that rarely win still get trained.
Division truncates toward zero as in C.
"""

from __future__ import annotations

import numpy as np

from ._neuquant_cy import PRIMES, train


def spread_sample(pixels: np.ndarray, count: int) -> np.ndarray:
    """About ``count`` of the (N, 3) ``pixels``, spread over all of them (all when N <= count).

    Taken with the same prime steps as the SOM's own sampling, so that the
    picture's rows and columns do not line up with the choice.
    """
    total = len(pixels)
    if total <= count:
        return pixels
    step = next((p for p in PRIMES if total % p), 1)
    return np.ascontiguousarray(pixels[(np.arange(count, dtype=np.int64) * step) % total])


def neuquant(pixels: np.ndarray, size: int = 256, sample_factor: int = 10) -> np.ndarray:
    """Train a NeuQuant network on RGB pixels.

    Args:
        pixels: uint8 array of shape (N, 3), the training pixels in scan order.
        size: number of neurons (palette entries), 2..256.
        sample_factor: 1..30; the network sees about N / sample_factor pixels.

    Returns:
        uint8 array of shape (size, 3): the trained neurons, in map order.
    """
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(-1, 3)
    return train(pixels, int(size), int(sample_factor))
