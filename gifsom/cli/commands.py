"""What each command does with its parsed arguments: build the options once, open the source, write the GIF."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from ..api import GifWriter
from ..errors import InputError, OptionError
from ..gif.output import GifPath, check_gif_path
from ..limits import check_clip_budget
from ..fit import SizeLimit
from ..options import EncodeOptions, parse_colour
from ..presets import describe_size, preset
from ..sources.base import FrameSource


def encode_options(args: argparse.Namespace) -> EncodeOptions:
    """The encoding options the flags ask for (checked here, once, before any work)."""
    fields = dict(colors=args.colors, quality=args.quality, refine=args.refine, palette=args.palette,
                  fixed_colors=tuple(parse_colour(c) for c in args.fixed_colors), dither=args.dither,
                  dither_strength=args.dither_strength, loop=0 if args.loop is None else args.loop,
                  matte=parse_colour(args.matte) if args.matte else None, lossy=args.lossy,
                  temporal=args.temporal)
    if args.motion_threshold is not None:
        fields["motion_threshold"] = args.motion_threshold
    return EncodeOptions(**fields)


def size_limit(args: argparse.Namespace) -> SizeLimit | None:
    """What ``--max-size`` and ``--for`` ask the GIF to fit in (``--max-size`` overrides the target's size)."""
    target = preset(args.target) if args.target is not None else None
    max_bytes = args.max_size if args.max_size is not None else (target.max_bytes if target else None)
    if max_bytes is None:
        return None
    if target is None:
        return SizeLimit(max_bytes)
    return SizeLimit(max_bytes, target.max_width, target.max_height, target.max_frames)


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).exists() and Path(b).exists() and os.path.samefile(a, b)
    except OSError:
        return False


def summary_stream(target: GifPath):
    """Where the closing summary goes: stderr when the GIF itself goes to stdout."""
    return sys.stderr if target.to_stdout else sys.stdout


def run_convert(args: argparse.Namespace) -> int:
    from ..sources import SourceOptions, open_source

    if _same_file(args.input, args.output) or os.path.abspath(args.input) == os.path.abspath(args.output):
        raise OptionError(f"output {args.output!r} is the input; write to another file")
    source_options = SourceOptions(fps=args.fps, width=args.width, height=args.height, start=args.start,
                                   end=args.end, speed=args.speed, max_pixels=args.max_pixels,
                                   partial_ok=args.partial_ok)
    options = encode_options(args)
    limit = size_limit(args)
    target = check_gif_path(args.output)
    source = open_source(args.input, source_options, resize_to_first=args.resize_to_first)
    plan = source.plan()
    if plan is not None:          # refuse a clip that cannot fit before decoding any of it
        check_clip_budget(plan.frames, plan.width, plan.height, plan.channels, args.max_spool)
    if args.loop is None and source.loop is not None:
        options = dataclasses.replace(options, loop=source.loop)
    return write(source, target, options, limit, args, args.fps)


def write(source: FrameSource, target: GifPath, options: EncodeOptions, limit: SizeLimit | None,
          args: argparse.Namespace, fps: float | None) -> int:
    """Encode every frame of ``source`` into ``target``."""
    writer = GifWriter(target, fps, bar=False if args.quiet else None, max_spool=args.max_spool, max_size=limit,
                       options=options)
    with writer:
        for frame in source.frames():
            writer.append(frame)
        writer.close(end_time=source.end_time)
    if source.warning:
        print(f"gifsom: warning: {source.warning}", file=sys.stderr)
    if not args.quiet:
        if writer.fit is not None and limit is not None:
            print(fit_summary(writer.fit.description, writer.bytes_written, limit), file=summary_stream(target))
        print(f"wrote {target}: {writer.frames_written} frames, {writer.bytes_written / 1024:.1f} KiB",
              file=summary_stream(target))
    return 0


def fit_summary(description: str, size: int, limit: SizeLimit) -> str:
    """``"fit 9.7 MB under 10 MB: 480 px wide, 12 fps, lossy 20, 256 colours"``."""
    return f"fit {describe_size(size)} under {describe_size(limit.max_bytes)}: {description}"


def run_encode(args: argparse.Namespace) -> int:
    from ..sources.pipe import PipeOptions, PipeSource, parse_size

    pipe_options = PipeOptions(size=parse_size(args.size) if args.size else None, fps=args.fps,
                               pix_fmt=args.pix_fmt, partial_ok=args.partial_ok)
    options = encode_options(args)
    limit = size_limit(args)
    target = check_gif_path(args.output)
    if args.input == "-":
        return write(PipeSource(sys.stdin.buffer, pipe_options), target, options, limit, args, args.fps)
    try:
        stream = open(args.input, "rb")
    except OSError as exc:
        raise InputError(f"cannot open {args.input!r}: {exc.strerror}; check the path") from None
    with stream:
        return write(PipeSource(stream, pipe_options, name=repr(args.input)), target, options, limit, args, args.fps)


def run_record(args: argparse.Namespace) -> int:
    from ..recorder import record

    options = encode_options(args)
    limit = size_limit(args)
    target = check_gif_path(args.output)
    report = record(target, region=args.region, monitor=args.monitor, fps=args.fps, duration=args.duration,
                    max_frames=args.max_frames, countdown=args.countdown, cursor=args.cursor,
                    status=False if args.quiet else None, max_spool=args.max_spool, max_size=limit, options=options)
    if not args.quiet:
        if report.fit is not None and limit is not None:
            print(fit_summary(report.fit.description, report.gif_bytes, limit), file=summary_stream(target))
        print(report.summary(), file=summary_stream(target))
    return 0


def run_palette(args: argparse.Namespace) -> int:
    from .palette_report import palette_report

    palette_report(args.input, colors=args.colors, quality=args.quality, refine=args.refine, dither=args.dither,
                   plot=args.plot, save=args.save)
    return 0


def run_info(args: argparse.Namespace) -> int:
    from .info import describe_gif

    describe_gif(args.input, as_json=args.json, max_pixels=args.max_pixels)
    return 0
