# The luma of an sRGB colour (0..255), Rec. 601 weights on the stored values, shared by the survey's texture
# test and the steady camera's touch-ups.

cdef inline double luma(double red, double green, double blue) noexcept nogil:
    """0.299 R + 0.587 G + 0.114 B, in the channels' units."""
    return 0.299 * red + 0.587 * green + 0.114 * blue
