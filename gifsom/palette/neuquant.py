"""NeuQuant: Anthony Dekker's 1-D Kohonen self-organizing map (1994), compiled.

This follows the published algorithm step for step, in its integer arithmetic
and with its constants: neurons start on the grey ramp, the learning rate and
neighbourhood radius shrink in 100 cycles, and a bias/frequency "contest" picks
the neuron to move so that neurons that rarely win still get trained.
Division truncates toward zero as in C.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Fixed-point layout of the network, as published.
NET_BIAS_SHIFT = 4                      # colour values are held as value << 4
N_CYCLES = 100                          # learning-rate and radius updates
INT_BIAS_SHIFT = 16
INT_BIAS = 1 << INT_BIAS_SHIFT          # frequencies and biases are fixed point
GAMMA_SHIFT = 10
BETA_SHIFT = 10
BETA = INT_BIAS >> BETA_SHIFT           # beta = 1/1024
BETA_GAMMA = INT_BIAS << (GAMMA_SHIFT - BETA_SHIFT)
RADIUS_BIAS_SHIFT = 6
RADIUS_BIAS = 1 << RADIUS_BIAS_SHIFT
RADIUS_DEC = 30                         # radius shrinks by 1/30 each cycle
ALPHA_BIAS_SHIFT = 10
INIT_ALPHA = 1 << ALPHA_BIAS_SHIFT      # learning rate 1.0
RAD_BIAS_SHIFT = 8
RAD_BIAS = 1 << RAD_BIAS_SHIFT
ALPHA_RAD_BIAS = 1 << (ALPHA_BIAS_SHIFT + RAD_BIAS_SHIFT)
PRIMES = (499, 491, 487, 503)           # sampling steps through the pixels


@njit(cache=True, inline="always")
def _tdiv(numerator: int, denominator: int) -> int:
    """C integer division: the quotient truncated toward zero (denominator > 0)."""
    if numerator >= 0:
        return numerator // denominator
    return -((-numerator) // denominator)


@njit(cache=True)
def _radius_powers(alpha: int, rad: int, out: np.ndarray) -> None:
    rad2 = rad * rad
    for i in range(rad):
        out[i] = alpha * (((rad2 - i * i) * RAD_BIAS) // rad2)


@njit(cache=True)
def _contest(net: np.ndarray, freq: np.ndarray, bias: np.ndarray, r: int, g: int, b: int) -> int:
    """Return the neuron chosen by the biased contest and update freq/bias."""
    n = net.shape[0]
    best_d = 0x7FFFFFFF
    best_bias_d = 0x7FFFFFFF
    best_pos = -1
    best_bias_pos = -1
    for i in range(n):
        dist = abs(net[i, 0] - r) + abs(net[i, 1] - g) + abs(net[i, 2] - b)
        if dist < best_d:
            best_d = dist
            best_pos = i
        bias_dist = dist - (bias[i] >> (INT_BIAS_SHIFT - NET_BIAS_SHIFT))
        if bias_dist < best_bias_d:
            best_bias_d = bias_dist
            best_bias_pos = i
        beta_freq = freq[i] >> BETA_SHIFT
        freq[i] -= beta_freq
        bias[i] += beta_freq << GAMMA_SHIFT
    freq[best_pos] += BETA
    bias[best_pos] -= BETA_GAMMA
    return best_bias_pos


@njit(cache=True)
def _train(pixels: np.ndarray, size: int, sample_factor: int) -> np.ndarray:
    count = pixels.shape[0]
    net = np.empty((size, 3), np.int64)
    for i in range(size):
        grey = (i << (NET_BIAS_SHIFT + 8)) // size
        net[i, 0] = grey
        net[i, 1] = grey
        net[i, 2] = grey
    freq = np.full(size, INT_BIAS // size, np.int64)
    bias = np.zeros(size, np.int64)
    powers = np.zeros(max(size >> 3, 1), np.int64)

    if count < PRIMES[3]:
        sample_factor = 1                 # too small to stride through: visit all
    alpha_dec = 30 + (sample_factor - 1) // 3
    samples = count // sample_factor
    delta = samples // N_CYCLES
    if delta == 0:
        delta = 1
    alpha = INIT_ALPHA
    radius = (size >> 3) * RADIUS_BIAS
    rad = radius >> RADIUS_BIAS_SHIFT
    if rad <= 1:
        rad = 0
    _radius_powers(alpha, rad, powers)

    step = PRIMES[3]
    for prime in PRIMES:
        if count % prime != 0:
            step = prime
            break
    if count <= step:
        step = 1

    pos = 0
    for i in range(1, samples + 1):
        r = np.int64(pixels[pos, 0]) << NET_BIAS_SHIFT
        g = np.int64(pixels[pos, 1]) << NET_BIAS_SHIFT
        b = np.int64(pixels[pos, 2]) << NET_BIAS_SHIFT
        j = _contest(net, freq, bias, r, g, b)
        # move the winner
        net[j, 0] -= _tdiv(alpha * (net[j, 0] - r), INIT_ALPHA)
        net[j, 1] -= _tdiv(alpha * (net[j, 1] - g), INIT_ALPHA)
        net[j, 2] -= _tdiv(alpha * (net[j, 2] - b), INIT_ALPHA)
        # and its neighbours along the 1-D map
        if rad:
            lo = max(j - rad, -1)
            hi = min(j + rad, size)
            up = j + 1
            down = j - 1
            m = 1
            while up < hi or down > lo:
                a = powers[m]
                m += 1
                if up < hi:
                    net[up, 0] -= _tdiv(a * (net[up, 0] - r), ALPHA_RAD_BIAS)
                    net[up, 1] -= _tdiv(a * (net[up, 1] - g), ALPHA_RAD_BIAS)
                    net[up, 2] -= _tdiv(a * (net[up, 2] - b), ALPHA_RAD_BIAS)
                    up += 1
                if down > lo:
                    net[down, 0] -= _tdiv(a * (net[down, 0] - r), ALPHA_RAD_BIAS)
                    net[down, 1] -= _tdiv(a * (net[down, 1] - g), ALPHA_RAD_BIAS)
                    net[down, 2] -= _tdiv(a * (net[down, 2] - b), ALPHA_RAD_BIAS)
                    down -= 1
        pos += step
        if pos >= count:
            pos -= count
        if i % delta == 0:
            alpha -= alpha // alpha_dec
            radius -= radius // RADIUS_DEC
            rad = radius >> RADIUS_BIAS_SHIFT
            if rad <= 1:
                rad = 0
            _radius_powers(alpha, rad, powers)

    out = np.empty((size, 3), np.uint8)
    for i in range(size):
        for c in range(3):
            out[i, c] = min(max(net[i, c] >> NET_BIAS_SHIFT, 0), 255)   # unbias, truncating as published
    return out


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
    return _train(pixels, int(size), int(sample_factor))
