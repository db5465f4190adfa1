# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""NeuQuant's training loop, compiled: integer arithmetic, and C division that
truncates toward zero, as published (Dekker 1994)."""

from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport llabs

import numpy as np

# Fixed-point layout of the network, as published.
cdef enum:
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

#: Sampling steps through the pixels (the first that does not divide the count).
PRIMES = (499, 491, 487, 503)


cdef void _radius_powers(int64_t alpha, int64_t rad, int64_t[::1] out) noexcept nogil:
    cdef int64_t i, rad2 = rad * rad
    for i in range(rad):
        out[i] = alpha * (((rad2 - i * i) * RAD_BIAS) / rad2)


cdef Py_ssize_t _contest(int64_t[:, ::1] net, int64_t[::1] freq, int64_t[::1] bias,
                         int64_t r, int64_t g, int64_t b) noexcept nogil:
    """The neuron chosen by the biased contest; updates freq and bias."""
    cdef Py_ssize_t i, n = net.shape[0], best_pos = -1, best_bias_pos = -1
    cdef int64_t best_d = 0x7FFFFFFF, best_bias_d = 0x7FFFFFFF, dist, bias_dist, beta_freq
    for i in range(n):
        dist = llabs(net[i, 0] - r) + llabs(net[i, 1] - g) + llabs(net[i, 2] - b)
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


cdef inline void _pull(int64_t[:, ::1] net, Py_ssize_t j, int64_t amount, int64_t scale,
                       int64_t r, int64_t g, int64_t b) noexcept nogil:
    """Move neuron j towards (r, g, b) by amount / scale."""
    net[j, 0] -= amount * (net[j, 0] - r) / scale
    net[j, 1] -= amount * (net[j, 1] - g) / scale
    net[j, 2] -= amount * (net[j, 2] - b) / scale


def train(const uint8_t[:, ::1] pixels, int size, int sample_factor):
    """Train a NeuQuant network.

    Args:
        pixels: uint8 (N, 3) training pixels in scan order.
        size: neurons, 2..256.
        sample_factor: 1..30; the network sees about N / sample_factor pixels.

    Returns:
        uint8 (size, 3): the trained neurons, in map order.
    """
    cdef Py_ssize_t count = pixels.shape[0], pos = 0, j, up, down, lo, hi, i, m, c
    net_array = np.empty((size, 3), np.int64)
    freq_array = np.full(size, INT_BIAS // size, np.int64)
    bias_array = np.zeros(size, np.int64)
    powers_array = np.zeros(max(size >> 3, 1), np.int64)
    out_array = np.empty((size, 3), np.uint8)
    cdef int64_t[:, ::1] net = net_array
    cdef int64_t[::1] freq = freq_array, bias = bias_array, powers = powers_array
    cdef uint8_t[:, ::1] out = out_array
    cdef int64_t grey, alpha_dec, samples, delta, alpha, radius, rad, step, r, g, b, a, value

    if count < PRIMES[3]:
        sample_factor = 1                 # too small to stride through: visit all
    step = PRIMES[3]
    for prime in PRIMES:
        if count % prime != 0:
            step = prime
            break
    if count <= step:
        step = 1

    with nogil:
        for i in range(size):
            grey = (i << (NET_BIAS_SHIFT + 8)) / size
            net[i, 0] = grey
            net[i, 1] = grey
            net[i, 2] = grey
        alpha_dec = 30 + (sample_factor - 1) / 3
        samples = count / sample_factor
        delta = samples / N_CYCLES
        if delta == 0:
            delta = 1
        alpha = INIT_ALPHA
        radius = (size >> 3) * RADIUS_BIAS
        rad = radius >> RADIUS_BIAS_SHIFT
        if rad <= 1:
            rad = 0
        _radius_powers(alpha, rad, powers)

        for i in range(1, samples + 1):
            r = <int64_t>pixels[pos, 0] << NET_BIAS_SHIFT
            g = <int64_t>pixels[pos, 1] << NET_BIAS_SHIFT
            b = <int64_t>pixels[pos, 2] << NET_BIAS_SHIFT
            j = _contest(net, freq, bias, r, g, b)
            _pull(net, j, alpha, INIT_ALPHA, r, g, b)          # move the winner
            if rad:                                            # and its neighbours along the 1-D map
                lo = max(j - rad, -1)
                hi = min(j + rad, size)
                up = j + 1
                down = j - 1
                m = 1
                while up < hi or down > lo:
                    a = powers[m]
                    m += 1
                    if up < hi:
                        _pull(net, up, a, ALPHA_RAD_BIAS, r, g, b)
                        up += 1
                    if down > lo:
                        _pull(net, down, a, ALPHA_RAD_BIAS, r, g, b)
                        down -= 1
            pos += step
            if pos >= count:
                pos -= count
            if i % delta == 0:
                alpha -= alpha / alpha_dec
                radius -= radius / RADIUS_DEC
                rad = radius >> RADIUS_BIAS_SHIFT
                if rad <= 1:
                    rad = 0
                _radius_powers(alpha, rad, powers)

        for i in range(size):
            for c in range(3):
                value = net[i, c] >> NET_BIAS_SHIFT             # unbias, truncating as published
                out[i, c] = <uint8_t>min(max(value, 0), 255)
    return out_array
