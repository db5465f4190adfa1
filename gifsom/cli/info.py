"""``gifsom info``: what a GIF holds, and the limits it breaks."""

from __future__ import annotations

import json
from pathlib import Path


from ..errors import InputError
from ..gif.reader import MIN_SHOWN_DELAY_CS, GifDamaged, GifReader
from ..presets import describe_size, limits_broken


def gif_facts(path: str, *, max_pixels: int) -> dict:
    """The facts ``gifsom info`` reports, as a dict of plain values (see :func:`describe_gif`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path!r}: {exc.strerror}; check the path") from None
    reader = GifReader(data, path, max_pixels=max_pixels)
    frames = 0
    duration_cs = 0
    transparent = False
    warnings = []
    try:
        for canvas, delay in reader.frames():
            frames += 1
            duration_cs += delay
            transparent = transparent or bool((canvas[:, :, 3] == 0).any())
    except GifDamaged as damage:
        if damage.frames == 0:
            raise InputError(f"{damage.where}; no frame before it decodes") from None
        warnings.append(f"{damage.where}; the facts above are of the {damage.frames} frames before the damage")
    delays = reader.stored_delays[:frames]
    short = sum(1 for delay in delays if delay < MIN_SHOWN_DELAY_CS)
    if short and frames > 1:
        warnings.append(f"{short} of {len(delays)} frames have a delay under {MIN_SHOWN_DELAY_CS} cs, which "
                        "browsers slow down to 10 cs")
    broken = limits_broken(len(data), reader.width, reader.height, frames)
    if broken:
        warnings.append("over the limits of " + "; ".join(broken))
    return {
        "path": path,
        "bytes": len(data),
        "width": reader.width,
        "height": reader.height,
        "frames": frames,
        "images": reader.image_count,
        "duration_s": round(duration_cs / 100, 2),
        "loop": reader.loop,
        "global_palette": reader.global_table_size,
        "local_palettes": reader.local_table_count,
        "min_delay_cs": min(delays) if delays else None,
        "max_delay_cs": max(delays) if delays else None,
        "transparency": transparent,
        "warnings": warnings,
    }


def _loop_words(loop: int) -> str:
    if loop < 0:
        return "plays once (no loop block)"
    if loop == 0:
        return "loops forever"
    return f"plays {loop + 1} times (loop count {loop})"


def describe_gif(path: str, *, as_json: bool = False, max_pixels: int) -> dict:
    """Print what the GIF at ``path`` holds (as one JSON object with ``as_json``) and return it."""
    facts = gif_facts(path, max_pixels=max_pixels)
    if as_json:
        print(json.dumps(facts))
        return facts
    delays = ("no delays" if facts["min_delay_cs"] is None else
              f"delays {facts['min_delay_cs']} to {facts['max_delay_cs']} cs")
    palette = (f"global palette of {facts['global_palette']} colours" if facts["global_palette"]
               else "no global palette")
    print(f"{path}: {describe_size(facts['bytes'])} ({facts['bytes']:,} bytes), "
          f"{facts['width']}x{facts['height']}")
    print(f"  {facts['frames']} frames ({facts['images']} images), {facts['duration_s']:g} s, "
          f"{_loop_words(facts['loop'])}")
    print(f"  {palette}, {facts['local_palettes']} local palettes; {delays}; "
          f"{'has transparency' if facts['transparency'] else 'opaque'}")
    for warning in facts["warnings"]:
        print(f"  warning: {warning}")
    return facts
