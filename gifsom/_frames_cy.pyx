# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Compiled frame comparison."""

from libc.string cimport memcmp


def same_bytes(const unsigned char[::1] a, const unsigned char[::1] b):
    """True when two byte buffers (flat uint8 (N,) views of arrays) hold the same bytes."""
    cdef int result
    if a.shape[0] != b.shape[0]:
        return False
    if a.shape[0] == 0:
        return True
    with nogil:
        result = memcmp(&a[0], &b[0], a.shape[0])
    return result == 0
