"""Reading GIF files as a web browser shows them.

:class:`GifReader` walks the blocks of a GIF once to find its images and its
loop count, then decodes and composes the images into full RGBA frames:

- the canvas starts transparent, and disposal 2 clears to transparent
  (the background colour is ignored, as browsers do);
- the screen grows to hold the first image, and later images are clipped to it;
- indices beyond the colour table draw nothing; an image with no colour table draws black;
- every image is a frame, and delays under :data:`MIN_SHOWN_DELAY_CS` (no delay
  included) are shown as :data:`DEFAULT_DELAY_CS`, as browsers play them; the
  one exception is a GIF with no loop block whose images all have no delay (the
  multi-image "true colour" GIFs), read as the one picture they compose, which
  is where a browser's playback ends and stays;
- a file cut short inside an image's data still shows that image when every
  pixel of it arrived (only the end codes and the trailer were lost);
- only the part of each image that lies on the screen is decoded and stored,
  so an image that declares far more pixels than the screen costs no memory;
- the loop count comes from the NETSCAPE2.0 or ANIMEXTS1.0 block.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..checks import DEFAULT_MAX_PIXELS
from ..errors import InputError, ResourceError
from ._unlzw_cy import BAD_CODE, decode_window

#: Delay browsers give a frame whose delay is below :data:`MIN_SHOWN_DELAY_CS` (centiseconds).
DEFAULT_DELAY_CS = 10
MIN_SHOWN_DELAY_CS = 2
_LOOP_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")
_DISPOSE_BACKGROUND = 2
_DISPOSE_PREVIOUS = 3


class GifDamaged(InputError):
    """The GIF's data is cut short or invalid at one of its images.

    Attributes:
        frames: frames decoded completely before the damage.
    """

    def __init__(self, where: str, frames: int) -> None:
        keep = ("; no frame before it decodes" if frames == 0 else
                f"; {frames} frames before the damage decode: keep them with `partial_ok`")
        super().__init__(where + keep)
        #: The message without the advice, for callers that give their own.
        self.where = where
        self.frames = frames


@dataclass(frozen=True)
class _Image:
    """Where one image's pieces lie in the file, and its graphic control."""

    left: int
    top: int
    width: int
    height: int
    interlaced: bool
    colours: np.ndarray | None        # uint8 (K, 3): local table, else global, else None
    local: bool                       # whether the table is the image's own
    code_size: int
    data: bytes                       # the LZW sub-blocks joined
    cut: bool                         # the file ended inside the data (it may still hold every pixel)
    delay_cs: int                     # 0 when there is no graphic control
    disposal: int
    transparent: int | None


class GifReader:
    """The images of one GIF file, composed into frames.

    Args:
        data: the whole file.
        name: how messages name the file.
        max_pixels: refuse a logical screen of more pixels than this.

    Attributes:
        width, height: the logical screen in pixels.
        loop: the loop block's count (0: forever, N: N repeats), or -1 when there is none.
        damage: why the file stops being readable before its trailer, or None. Images
            before the damage are readable; see :meth:`frames`.
    """

    def __init__(self, data: bytes, name: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.name = name
        if not data:
            raise InputError(f"{name!r} is empty (0 bytes); check that it was downloaded or written completely")
        if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
            raise InputError(f"{name!r} is not a GIF (it starts with {data[:6]!r}); give a GIF, a video or images")
        self.width, self.height, flags = struct.unpack_from("<HHB", data, 6)
        if self.width == 0 or self.height == 0:
            raise InputError(f"{name!r} is a GIF with a {self.width}x{self.height} screen, which shows nothing; "
                             "the file is broken")
        self.loop = -1
        #: Entries of the global colour table, or 0 when there is none.
        self.global_table_size = 0
        self.damage: str | None = None
        self._images: list[_Image] = []
        self._scan(data, flags)
        if self.width * self.height > max_pixels:
            raise ResourceError(
                f"{name!r} is {self.width}x{self.height}, over the {max_pixels:,}-pixel safety limit "
                f"({self.width * self.height * 4 / 2**20:,.0f} MiB a frame); raise it with `max_pixels` "
                "if you trust the file")

    def _scan(self, data: bytes, flags: int) -> None:
        global_colours, position = _colour_table(data, 13, flags)
        if flags & 0x80:
            self.global_table_size = 2 << (flags & 7)
        control = (0, 0, None)               # delay, disposal, transparent index of the next image
        try:
            while True:
                if position >= len(data):
                    return                   # no trailer: browsers and Pillow show such GIFs in full
                kind = data[position]
                if kind == 0x3B:             # trailer
                    return
                if kind == 0x21:
                    label = data[position + 1] if position + 1 < len(data) else -1
                    blocks, position, cut = _sub_blocks(data, position + 2, partial=True)
                    if cut:                  # cut inside an extension: every image before it is whole
                        if not self._images:
                            self.damage = "it ends inside a block, before any image"
                        return
                    if label == 0xF9 and blocks and len(blocks[0]) >= 4:
                        packed, delay, index = struct.unpack_from("<BHB", blocks[0])
                        control = (delay, (packed >> 2) & 7, index if packed & 1 else None)
                    elif label == 0xFF and len(blocks) >= 2 and blocks[0][:11] in _LOOP_APPLICATIONS \
                            and len(blocks[1]) >= 3 and blocks[1][0] == 1:
                        self.loop = struct.unpack_from("<H", blocks[1], 1)[0]
                    continue
                if kind != 0x2C:
                    raise _CutShort(f"byte {position} is {kind:#04x}, not a block")
                if position + 10 > len(data):
                    raise _CutShort("it ends inside an image descriptor")
                left, top, width, height, packed = struct.unpack_from("<HHHHB", data, position + 1)
                position += 10
                if width * height == 0 and (position >= len(data) or data[position] in (0x21, 0x2C, 0x3B)):
                    control = (0, 0, None)   # an empty image written with no table and no data: nothing to draw
                    continue
                if not self._images:         # browsers grow the screen to hold the first image
                    self.width, self.height = max(self.width, left + width), max(self.height, top + height)
                local = bool(packed & 0x80)
                colours = global_colours
                if local:
                    colours, position = _colour_table(data, position, packed)
                    if colours is None:
                        raise _CutShort("it ends inside a colour table")
                if position >= len(data):
                    raise _CutShort("it ends before an image's data")
                code_size = data[position]
                if not 1 <= code_size <= 11:
                    raise _CutShort(f"an image has LZW code size {code_size} (GIF allows 2 to 8)")
                blocks, position, cut = _sub_blocks(data, position + 1, partial=True)
                self._images.append(_Image(left, top, width, height, bool(packed & 0x40), colours, local, code_size,
                                           b"".join(blocks), cut, *control))
                control = (0, 0, None)
                if cut:
                    return                   # the file ends here; frames() tells whether pixels are missing
        except _CutShort as cut:
            self.damage = str(cut)

    @property
    def image_count(self) -> int:
        return len(self._images)

    @property
    def local_table_count(self) -> int:
        """Images with a colour table of their own."""
        return sum(image.local for image in self._images)

    @property
    def stored_delays(self) -> list[int]:
        """The delay of each image that ends a frame, as stored (centiseconds, before browsers' rules)."""
        return [image.delay_cs for image, ends in zip(self._images, self._frame_ends()) if ends]

    def _frame_ends(self) -> list[bool]:
        """For each image, whether a frame is shown once it is drawn."""
        images = self._images
        if self.loop < 0 and not any(image.delay_cs for image in images):
            return [number == len(images) - 1 for number in range(len(images))]
        return [True] * len(images)

    @property
    def frame_count(self) -> int:
        """Frames :meth:`frames` yields when nothing is damaged (counted without decoding)."""
        return sum(self._frame_ends()) if self._images else int(not self.damage)

    @property
    def shown_delays(self) -> list[int]:
        """Each frame's delay as browsers play it (centiseconds), counted without decoding."""
        if not self._images:
            return [] if self.damage else [DEFAULT_DELAY_CS]
        return [_shown(image.delay_cs) for image, ends in zip(self._images, self._frame_ends()) if ends]

    @property
    def may_show_transparency(self) -> bool:
        """Whether a frame may show transparent pixels, judged from the blocks without decoding
        (True when any image names a transparent index, or the first image leaves part of the
        screen undrawn)."""
        if not self._images:
            return True
        first = self._images[0]
        covers = first.left == 0 and first.top == 0 and first.width >= self.width and first.height >= self.height
        return not covers or any(image.transparent is not None for image in self._images)

    def frames(self) -> Iterator[tuple[np.ndarray, int]]:
        """The frames a browser shows: ``(pixels, delay)``, uint8 (height, width, 4) RGBA and centiseconds.

        The pixels array is reused: copy it to keep it past the next frame.

        Raises:
            GifDamaged: after the last good frame, when an image cannot be decoded or the file
                was cut short (see :attr:`damage`).
        """
        canvas = np.zeros((self.height, self.width, 4), np.uint8)
        ends = self._frame_ends()
        undo: tuple[tuple[slice, slice], np.ndarray | None] | None = None   # the last image's disposal
        shown = 0
        if not self._images and not self.damage:
            yield canvas, DEFAULT_DELAY_CS        # a GIF with no image shows its empty, transparent canvas
            return
        for number, image in enumerate(self._images):
            if undo is not None:
                where, saved = undo
                canvas[where] = 0 if saved is None else saved
                undo = None
            y0, y1 = min(image.top, self.height), min(image.top + image.height, self.height)
            x0, x1 = min(image.left, self.width), min(image.left + image.width, self.width)
            where = (slice(y0, y1), slice(x0, x1))
            if image.disposal == _DISPOSE_BACKGROUND:
                undo = (where, None)
            elif image.disposal == _DISPOSE_PREVIOUS:
                undo = (where, canvas[where].copy())
            failure = self._draw(image, canvas, where)
            if failure:
                raise GifDamaged(f"GIF {self.name!r} is damaged at image {number} ({failure})", shown)
            if ends[number]:
                yield canvas, _shown(image.delay_cs)
                shown += 1
        if self.damage:
            raise GifDamaged(f"GIF {self.name!r} is damaged: {self.damage}", shown)

    @staticmethod
    def _draw(image: _Image, canvas: np.ndarray, where: tuple[slice, slice]) -> str | None:
        """Decode the part of ``image`` on the screen and draw its opaque pixels onto ``canvas``;
        a reason when the data is invalid or cut short before a pixel on the screen."""
        rows, cols = where
        h, w = max(0, rows.stop - rows.start), max(0, cols.stop - cols.start)
        if image.width * image.height == 0:
            return None
        if image.interlaced:
            display_row = np.concatenate([np.arange(start, image.height, step, dtype=np.int32)
                                          for start, step in ((0, 8), (4, 8), (2, 4), (1, 2))])
        else:
            display_row = np.arange(image.height, dtype=np.int32)
        # the stream position after the last pixel on the screen: no pixel after it is needed
        on_screen = np.flatnonzero(display_row < h) if w else np.zeros(0, np.intp)
        stop = (int(on_screen[-1]) + 1) * image.width if len(on_screen) else 0
        if stop == 0:
            return None
        indices = np.zeros((h, w), np.uint8)
        drawn = np.zeros((h, w), np.uint8)
        read, status = decode_window(np.frombuffer(image.data, np.uint8), image.code_size, image.width,
                                     display_row[:stop // image.width], stop, indices, drawn)
        if status == BAD_CODE and read == 0:
            return "its LZW data holds an undefined code"
        if image.cut and read < stop:
            return "the file ends inside its data"
        colours = _NO_TABLE if image.colours is None else image.colours
        region = canvas[where]
        if read >= stop and image.transparent is None and int(indices.max()) < len(colours):
            region[:, :, :3] = colours[indices]      # every pixel drawn: no mask needed
            region[:, :, 3] = 255
            return None
        shown = drawn.astype(bool) & (indices < len(colours))   # pixels the data never reached stay
        if image.transparent is not None:
            shown &= indices != image.transparent
        region[shown, :3] = colours[indices[shown]]
        region[shown, 3] = 255
        return None


#: What browsers draw an image with no colour table in: every index black.
_NO_TABLE = np.zeros((256, 3), np.uint8)


def _shown(delay_cs: int) -> int:
    """How long browsers show a frame of ``delay_cs`` centiseconds."""
    return delay_cs if delay_cs >= MIN_SHOWN_DELAY_CS else DEFAULT_DELAY_CS


class _CutShort(Exception):
    pass


def _colour_table(data: bytes, position: int, packed: int) -> tuple[np.ndarray | None, int]:
    """The colour table a descriptor's ``packed`` byte announces at ``position``: uint8 (K, 3), or None
    when there is none or the file ends inside it; and the position after it."""
    if not packed & 0x80:
        return None, position
    size = 3 << ((packed & 7) + 1)
    if position + size > len(data):
        return None, position + size
    return np.frombuffer(data, np.uint8, size, position).reshape(-1, 3), position + size


def _sub_blocks(data: bytes, position: int, *, partial: bool = False) -> tuple[list[bytes], int, bool]:
    """The data sub-blocks starting at ``position``, the position after their terminator, and whether
    the file ended first. With ``partial``, a file that ends inside them gives what arrived (the last
    block cut to the bytes there are); without it, that raises :class:`_CutShort`."""
    blocks: list[bytes] = []
    while True:
        if position >= len(data):
            if partial:
                return blocks, len(data), True
            raise _CutShort("it ends inside a block")
        size = data[position]
        if size == 0:
            return blocks, position + 1, False
        if position + 1 + size > len(data):
            if partial:
                blocks.append(data[position + 1:])
                return blocks, len(data), True
            raise _CutShort("it ends inside a block")
        blocks.append(data[position + 1: position + 1 + size])
        position += 1 + size
