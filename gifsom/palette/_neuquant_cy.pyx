# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""NeuQuant's training loop, compiled: integer arithmetic, and C division that
truncates toward zero, as published (Dekker 1994)."""

from libc.stdint cimport int32_t, int64_t, uint8_t

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


cdef extern from *:
    """
    #include <stdint.h>
    /* NeuQuant's contest over the neurons, held channel by channel (int32, padded to a multiple of 4 with
       neurons too far to win), for one training colour (r, g, b), each value << 4:
       every neuron's distance is the sum of its three channels' absolute differences; the nearest (the
       first of equal ones) gains frequency and loses bias after the loop; the winner, returned, is the
       first with the least distance less its bias (bias >> 12, kept in shifted); every neuron's frequency
       decays by 1/1024 (freq >> 10) and that much << 10 is added to its bias (int64; shifted follows it).
       With SSE2 four neurons are taken at once; all values stay within int32, so the lanes give the
       published integer results exactly. Building with GIFSOM_NO_SSE defined takes the neuron-by-neuron
       loop on any machine, to check it. */
    /* gifsom_gain: neuron i's frequency and bias change, and the bias as the contest reads it follows. */
    static inline void gifsom_gain(int32_t *freq, int64_t *bias, int32_t *shifted, Py_ssize_t i,
                                   int32_t frequency, int64_t change) {
        freq[i] += frequency;
        bias[i] += change;
        shifted[i] = (int32_t)(bias[i] >> 12);
    }
    #if (defined(__SSE2__) || defined(_M_X64)) && !defined(GIFSOM_NO_SSE)
    #include <emmintrin.h>
    static inline __m128i gifsom_abs_epi32(__m128i x) {
        __m128i sign = _mm_srai_epi32(x, 31);
        return _mm_sub_epi32(_mm_xor_si128(x, sign), sign);
    }
    static inline __m128i gifsom_pick(__m128i mask, __m128i a, __m128i b) {
        return _mm_or_si128(_mm_and_si128(mask, a), _mm_andnot_si128(mask, b));
    }
    static inline Py_ssize_t gifsom_first_least(__m128i values, __m128i indices) {
        int32_t v[4], i[4];
        _mm_storeu_si128((__m128i *)v, values);
        _mm_storeu_si128((__m128i *)i, indices);
        int best = 0;
        for (int lane = 1; lane < 4; lane++)
            if (v[lane] < v[best] || (v[lane] == v[best] && i[lane] < i[best])) best = lane;
        return i[best];
    }
    static Py_ssize_t gifsom_contest(const int32_t *red, const int32_t *green, const int32_t *blue, int32_t *freq,
                                     int64_t *bias, int32_t *shifted, Py_ssize_t padded, int32_t r, int32_t g,
                                     int32_t b, Py_ssize_t *nearest) {
        __m128i vr = _mm_set1_epi32(r), vg = _mm_set1_epi32(g), vb = _mm_set1_epi32(b);
        __m128i best = _mm_set1_epi32(0x7FFFFFFF), best_at = _mm_setzero_si128();
        __m128i biased = _mm_set1_epi32(0x7FFFFFFF), biased_at = _mm_setzero_si128();
        __m128i at = _mm_setr_epi32(0, 1, 2, 3), four = _mm_set1_epi32(4), zero = _mm_setzero_si128();
        for (Py_ssize_t j = 0; j < padded; j += 4) {
            __m128i d = _mm_add_epi32(_mm_add_epi32(
                gifsom_abs_epi32(_mm_sub_epi32(_mm_loadu_si128((const __m128i *)(red + j)), vr)),
                gifsom_abs_epi32(_mm_sub_epi32(_mm_loadu_si128((const __m128i *)(green + j)), vg))),
                gifsom_abs_epi32(_mm_sub_epi32(_mm_loadu_si128((const __m128i *)(blue + j)), vb)));
            __m128i bd = _mm_sub_epi32(d, _mm_loadu_si128((const __m128i *)(shifted + j)));
            __m128i nearer = _mm_cmplt_epi32(d, best);
            best = gifsom_pick(nearer, d, best);
            best_at = gifsom_pick(nearer, at, best_at);
            __m128i fitter = _mm_cmplt_epi32(bd, biased);
            biased = gifsom_pick(fitter, bd, biased);
            biased_at = gifsom_pick(fitter, at, biased_at);
            __m128i f = _mm_loadu_si128((const __m128i *)(freq + j));
            __m128i decay = _mm_srai_epi32(f, 10);
            int decaying = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(decay, zero)));
            if (decaying) {
                int32_t each[4];
                _mm_storeu_si128((__m128i *)each, decay);
                for (int lane = 0; lane < 4; lane++)
                    if (decaying & (1 << lane))
                        gifsom_gain(freq, bias, shifted, j + lane, -each[lane], (int64_t)each[lane] << 10);
            }
            at = _mm_add_epi32(at, four);
        }
        *nearest = gifsom_first_least(best, best_at);
        return gifsom_first_least(biased, biased_at);
    }
    #else
    static Py_ssize_t gifsom_contest(const int32_t *red, const int32_t *green, const int32_t *blue, int32_t *freq,
                                     int64_t *bias, int32_t *shifted, Py_ssize_t padded, int32_t r, int32_t g,
                                     int32_t b, Py_ssize_t *nearest) {
        int32_t best = 0x7FFFFFFF, biased = 0x7FFFFFFF;
        Py_ssize_t best_at = 0, biased_at = 0;
        for (Py_ssize_t i = 0; i < padded; i++) {
            int32_t dr = red[i] - r, dg = green[i] - g, db = blue[i] - b;
            int32_t d = (dr < 0 ? -dr : dr) + (dg < 0 ? -dg : dg) + (db < 0 ? -db : db);
            if (d < best) { best = d; best_at = i; }
            if (d - shifted[i] < biased) { biased = d - shifted[i]; biased_at = i; }
            int32_t decay = freq[i] >> 10;
            if (decay) gifsom_gain(freq, bias, shifted, i, -decay, (int64_t)decay << 10);
        }
        *nearest = best_at;
        return biased_at;
    }
    #endif
    """
    Py_ssize_t contest "gifsom_contest"(const int32_t* red, const int32_t* green, const int32_t* blue,
                                        int32_t* freq, int64_t* bias, int32_t* shifted, Py_ssize_t padded,
                                        int32_t r, int32_t g, int32_t b, Py_ssize_t* nearest) noexcept nogil
    void gain "gifsom_gain"(int32_t* freq, int64_t* bias, int32_t* shifted, Py_ssize_t i, int32_t frequency,
                            int64_t change) noexcept nogil

#: Padding neurons sit this far out on every channel (value << 4): never the nearest nor the contest's winner,
#: whose least distances are under 3 * 4096 (less biases of at most some 16 per training colour).
cdef enum:
    FAR_AWAY = 1 << 28


cdef void _radius_powers(int64_t alpha, int64_t rad, int64_t[::1] out) noexcept nogil:
    cdef int64_t i, rad2 = rad * rad
    for i in range(rad):
        out[i] = alpha * (((rad2 - i * i) * RAD_BIAS) / rad2)


cdef inline void _pull(int32_t[:, ::1] net, Py_ssize_t j, int64_t amount, int64_t scale,
                       int64_t r, int64_t g, int64_t b) noexcept nogil:
    """Move neuron j (channels in rows 0..2 of ``net``) towards (r, g, b) by amount / scale."""
    net[0, j] = <int32_t>(net[0, j] - amount * (net[0, j] - r) / scale)
    net[1, j] = <int32_t>(net[1, j] - amount * (net[1, j] - g) / scale)
    net[2, j] = <int32_t>(net[2, j] - amount * (net[2, j] - b) / scale)


def train(const uint8_t[:, ::1] pixels, int size, int sample_factor):
    """Train a NeuQuant network.

    Args:
        pixels: uint8 (N, 3) training pixels in scan order.
        size: neurons, 2..256.
        sample_factor: 1..30; the network sees about N / sample_factor pixels.

    Returns:
        uint8 (size, 3): the trained neurons, in map order.
    """
    cdef Py_ssize_t count = pixels.shape[0], pos = 0, j, up, down, lo, hi, i, m, c, nearest
    cdef Py_ssize_t padded = (size + 3) // 4 * 4
    # neurons channel by channel (value << 4, int32: every value stays within 0..4080), padded far away
    net_array = np.full((3, padded), FAR_AWAY, np.int32)
    freq_array = np.zeros(padded, np.int32)
    freq_array[:size] = INT_BIAS // size
    bias_array = np.zeros(padded, np.int64)
    shifted_array = np.zeros(padded, np.int32)
    powers_array = np.zeros(max(size >> 3, 1), np.int64)
    out_array = np.empty((size, 3), np.uint8)
    cdef int32_t[:, ::1] net = net_array
    cdef int32_t[::1] freq = freq_array, shifted = shifted_array
    cdef int64_t[::1] bias = bias_array, powers = powers_array
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
            net[0, i] = grey
            net[1, i] = grey
            net[2, i] = grey
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
            j = contest(&net[0, 0], &net[1, 0], &net[2, 0], &freq[0], &bias[0], &shifted[0], padded, r, g, b,
                        &nearest)
            gain(&freq[0], &bias[0], &shifted[0], nearest, BETA, -BETA_GAMMA)
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
                value = net[c, i] >> NET_BIAS_SHIFT             # unbias, truncating as published
                out[i, c] = <uint8_t>min(max(value, 0), 255)
    return out_array
