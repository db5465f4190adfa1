"""The ``gifsom`` command line: ``convert``, ``encode``, ``palette`` and ``record``."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import GifsomError, InputError, OptionError
from .gif.reader import DEFAULT_MAX_PIXELS
from .limits import DEFAULT_MAX_SPOOL, parse_bytes
from .mapping.dither import DITHER_MODES
from .options import PALETTE_SCOPES, EncodeOptions, parse_colour

DESCRIPTION = """\
gifsom makes small, sharp animated GIFs. Its palette is learned by a
self-organizing map (NeuQuant, refined to convergence); frames are mapped with
optional dithering that stays still where the picture does, and the writer
stores only what changed between frames.
"""

EPILOG = """\
examples:
  gifsom record demo.gif --region 100,200,640,480 --fps 15
  gifsom convert talk.mp4 talk.gif --fps 12 --width 480
  gifsom convert "shots/*.png" shots.gif --fps 5
  gifsom convert old.gif smaller.gif
  ffmpeg -i in.mp4 -f yuv4mpegpipe - | gifsom encode - out.gif
  gifsom palette photo.jpg --colors 64 --plot palette.png --save palette.gpl

Run 'gifsom COMMAND --help' for the options of each command.
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, raised as OptionError."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise OptionError(f"{message} (see '{self.prog} --help')")


def parse_time(text: str) -> float:
    """Seconds from ``12.5``, ``01:02`` (MM:SS) or ``01:02:03.5`` (HH:MM:SS.ms)."""
    try:
        parts = [float(part) for part in text.split(":")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"time {text!r} is not seconds or HH:MM:SS.ms") from None
    if len(parts) > 3 or any(p < 0 for p in parts):
        raise argparse.ArgumentTypeError(f"time {text!r} is not seconds or HH:MM:SS.ms")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def _ranged(kind, low, high, what):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} {text!r} is not a {kind.__name__ if kind is int else 'number'}") from None
        if not (low <= value <= high):
            raise argparse.ArgumentTypeError(f"{what} {text} is out of range; use {low} to {high}")
        return value
    return parse


def _size(text: str) -> int:
    try:
        return parse_bytes(text)
    except OptionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_fps(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"fps {text!r} is not a number") from None
    if not (0 < value <= 100):
        raise argparse.ArgumentTypeError(f"fps {text} is out of range; use a frame rate above 0 and at most 100")
    return value


def _add_encoding_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("palette and colour")
    group.add_argument("--colors", type=_ranged(int, 2, 256, "--colors"), default=256, metavar="N",
                       help="palette size, 2 to 256 (default 256; a learned palette for an animation leaves one "
                            "slot for transparency)")
    group.add_argument("--quality", type=_ranged(int, 1, 30, "--quality"), default=10, metavar="Q",
                       help="NeuQuant sampling factor with --no-refine: 1 is slowest and best, 30 fastest "
                            "(default 10); by default the SOM only seeds the refinement and this has no effect")
    group.add_argument("--no-refine", dest="refine", action="store_false",
                       help="pure NeuQuant: skip the convergence phase that follows the SOM")
    group.add_argument("--palette", choices=PALETTE_SCOPES, default="global",
                       help="one palette for the clip (global, the default), one per scene, or one per frame")
    group.add_argument("--fixed-color", dest="fixed_colors", action="append", default=[], metavar="RRGGBB",
                       help="a colour that must be in the palette as it is (repeatable)")
    group.add_argument("--dither", choices=DITHER_MODES, default="none",
                       help="dither mode (default none: smallest files; see the README for the trade-offs)")
    group.add_argument("--dither-strength", type=_ranged(float, 0.0, 1.0, "--dither-strength"), default=1.0,
                       metavar="S", help="0 to 1, how strongly to dither (default 1)")
    group.add_argument("--motion-threshold", type=_ranged(int, 0, 255, "--motion-threshold"), default=None,
                       metavar="T", help="a pixel that changed by at most T on every channel keeps its colour "
                                         "from the previous frame (default 0: exact)")
    group.add_argument("--no-temporal", dest="temporal", action="store_false",
                       help="map every frame afresh instead of keeping unchanged pixels' colours "
                            "(only useful to measure what temporal stability saves)")
    out = parser.add_argument_group("output")
    out.add_argument("--lossy", type=_ranged(int, 0, 255, "--lossy"), default=0, metavar="N",
                     help="lossy LZW: let pixels move up to N (RGB distance) in colour when that compresses "
                          "better, and treat screen pixels within N as unchanged (default 0: exact; try 10..40)")
    out.add_argument("--loop", type=_ranged(int, -1, 65535, "--loop"), default=None, metavar="N",
                     help="0 loops forever (default), N repeats N times, -1 plays once")
    out.add_argument("--matte", type=str, default=None, metavar="RRGGBB",
                     help="blend partly transparent pixels onto this colour")
    out.add_argument("--max-spool", type=_size, default=DEFAULT_MAX_SPOOL, metavar="SIZE",
                     help="refuse clips whose raw frames would take more than SIZE (such as 500M or 64G; "
                          "default 64G)")
    out.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary")
    out.add_argument("--debug", action="store_true", help="show a traceback on errors")


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("frames")
    group.add_argument("--fps", type=_positive_fps, default=None,
                       help="output frame rate (frames are dropped or repeated on the input's timeline); "
                            "default: the input's own rate (10 for image sequences)")
    group.add_argument("--width", type=_ranged(int, 1, 65535, "--width"), default=None,
                       help="output width in pixels (keeps the aspect ratio unless --height is given too)")
    group.add_argument("--height", type=_ranged(int, 1, 65535, "--height"), default=None,
                       help="output height in pixels")
    group.add_argument("--start", type=parse_time, default=None, metavar="TIME",
                       help="start at this time of the input (seconds or HH:MM:SS.ms)")
    group.add_argument("--end", type=parse_time, default=None, metavar="TIME",
                       help="stop at this time of the input")
    group.add_argument("--speed", type=_ranged(float, 0.01, 100.0, "--speed"), default=1.0, metavar="X",
                       help="play X times faster (0.5 is half speed)")
    group.add_argument("--resize-to-first", action="store_true",
                       help="image sequences: scale frames of another size to the first frame's size")
    group.add_argument("--partial-ok", action="store_true",
                       help="GIF input: if the file is damaged or cut short, keep the frames before the damage")
    group.add_argument("--max-pixels", type=_ranged(int, 1, 65535 * 65535, "--max-pixels"),
                       default=DEFAULT_MAX_PIXELS, metavar="N",
                       help=f"GIF input: refuse a canvas of more than N pixels, a guard against "
                            f"decompression bombs (default {DEFAULT_MAX_PIXELS:,})")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gifsom", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gifsom {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    convert = commands.add_parser(
        "convert", help="turn a video, image sequence or GIF into an optimised GIF",
        description="Convert INPUT to an animated GIF. INPUT is a video file (anything ffmpeg reads: "
                    "mp4, webm, mkv, mov, ...), a GIF (re-encoded and optimised, keeping its timing and "
                    "loop count), an image, a folder of images, or a quoted glob such as \"shots/*.png\" "
                    "(natural order: frame2 before frame10).")
    convert.add_argument("input", help="video, GIF, image, folder or glob")
    convert.add_argument("output", help="the GIF to write (written whole or not at all)")
    _add_source_options(convert)
    _add_encoding_options(convert)

    record = commands.add_parser(
        "record", help="record part of the screen into a GIF",
        description="Record the screen (or a region of it) into an animated GIF. Without --duration or "
                    "--max-frames it records until Ctrl+C or SIGTERM, then writes the GIF from what was "
                    "recorded; a second Ctrl+C while encoding aborts and writes nothing. Frames are spooled "
                    "to a temporary file (deflated), so long takes do not fill memory.")
    record.add_argument("output", help="the GIF to write")
    grab = record.add_argument_group("capture")
    grab.add_argument("--region", metavar="X,Y,W,H",
                      help="the rectangle to record: X,Y,W,H or X11's WxH+X+Y (default: the whole monitor)")
    grab.add_argument("--monitor", type=_ranged(int, 1, 64, "--monitor"), default=1, metavar="N",
                      help="monitor to record when no region is given (1 is the primary)")
    grab.add_argument("--fps", type=_ranged(float, 0.1, 60.0, "--fps"), default=10.0,
                      help="frames per second (default 10)")
    grab.add_argument("--duration", type=parse_time, default=None, metavar="TIME",
                      help="stop after this long (seconds or HH:MM:SS); default: until Ctrl+C")
    grab.add_argument("--max-frames", type=_ranged(int, 1, 10 ** 9, "--max-frames"), default=None, metavar="N",
                      help="stop after N frames")
    grab.add_argument("--countdown", type=_ranged(float, 0.0, 60.0, "--countdown"), default=0.0, metavar="S",
                      help="wait S seconds before recording")
    grab.add_argument("--cursor", dest="cursor", action="store_true", default=True,
                      help="draw the mouse pointer (default)")
    grab.add_argument("--no-cursor", dest="cursor", action="store_false", help="leave the mouse pointer out")
    _add_encoding_options(record)

    encode = commands.add_parser(
        "encode", help="encode frames from a pipe (raw RGB/RGBA or y4m) into a GIF",
        description="Encode frames that another program writes to stdin (INPUT '-') or to a file. "
                    "y4m is recognised by its header and carries its own size and rate: "
                    "'ffmpeg -i in.mp4 -f yuv4mpegpipe - | gifsom encode - out.gif'. Raw frames need "
                    "--size and --fps: 'recorder | gifsom encode - out.gif --size 800x600 --fps 15'.")
    encode.add_argument("input", help="'-' for stdin, or a file holding the stream")
    encode.add_argument("output", help="the GIF to write")
    frames = encode.add_argument_group("frames")
    frames.add_argument("--size", metavar="WxH", help="size of raw frames, for example 800x600")
    frames.add_argument("--fps", type=_positive_fps, default=None,
                        help="rate of raw frames (required for raw); for y4m, a rate to resample to")
    frames.add_argument("--pix-fmt", choices=("rgb24", "rgba"), default="rgb24", help="layout of raw frames")
    frames.add_argument("--partial-ok", action="store_true",
                        help="if the stream ends inside a frame, write the frames before it instead of failing")
    _add_encoding_options(encode)

    palette = commands.add_parser(
        "palette", help="learn and show the SOM palette of an image or clip",
        description="Learn the palette of INPUT (an image or any clip convert reads) and report its quality. "
                    "--plot draws the input, the quantized output, the index map and the used colours "
                    "as swatches; --save writes a GIMP palette.")
    palette.add_argument("input", help="image, video, GIF, folder or glob")
    palette.add_argument("--colors", type=_ranged(int, 2, 256, "--colors"), default=256, metavar="N",
                         help="palette size, 2 to 256 (default 256)")
    palette.add_argument("--quality", type=_ranged(int, 1, 30, "--quality"), default=10, metavar="Q",
                         help="NeuQuant sampling factor with --no-refine, 1 to 30 (default 10)")
    palette.add_argument("--no-refine", dest="refine", action="store_false", help="pure NeuQuant")
    palette.add_argument("--dither", choices=DITHER_MODES, default="none", help="dither used for the plot")
    palette.add_argument("--plot", metavar="PNG", help="write the picture of the palette here")
    palette.add_argument("--save", metavar="GPL", help="write the palette as a GIMP palette file here")
    palette.add_argument("--debug", action="store_true", help="show a traceback on errors")
    return parser


def _encode_options(args: argparse.Namespace, loop: int | None = None) -> EncodeOptions:
    fields = dict(colors=args.colors, quality=args.quality, refine=args.refine, palette=args.palette,
                  fixed_colors=tuple(parse_colour(c) for c in args.fixed_colors), dither=args.dither,
                  dither_strength=args.dither_strength,
                  loop=args.loop if args.loop is not None else (loop if loop is not None else 0),
                  matte=parse_colour(args.matte) if args.matte else None, lossy=args.lossy,
                  temporal=args.temporal)
    if args.motion_threshold is not None:
        fields["motion_threshold"] = args.motion_threshold
    return EncodeOptions(**fields)


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).exists() and Path(b).exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _summary_stream(output: str):
    """Where the closing summary goes: stderr when the GIF itself goes to stdout."""
    return sys.stderr if output == "-" else sys.stdout


def _run_convert(args: argparse.Namespace) -> int:
    from .gif.output import check_gif_path
    from .limits import check_clip_budget
    from .sources import SourceOptions, open_source

    if _same_file(args.input, args.output) or os.path.abspath(args.input) == os.path.abspath(args.output):
        raise OptionError(f"output {args.output!r} is the input; write to another file")
    source_options = SourceOptions(fps=args.fps, width=args.width, height=args.height, start=args.start,
                                   end=args.end, speed=args.speed, max_pixels=args.max_pixels,
                                   partial_ok=args.partial_ok)
    _encode_options(args)       # check the options before any frame is read
    check_gif_path(args.output)
    source = open_source(args.input, source_options, resize_to_first=args.resize_to_first)
    if hasattr(source, "plan"):     # videos: refuse a clip that cannot fit before decoding any of it
        frames, width, height = source.plan()
        check_clip_budget(frames, width, height, 3, args.max_spool)
    return _write(source, args, args.fps)


def _write(source, args: argparse.Namespace, fps: float | None) -> int:
    """Encode every frame of ``source`` into ``args.output`` with the command's options."""
    from .api import GifWriter

    options = _encode_options(args)
    writer = GifWriter(args.output, fps, bar=False if args.quiet else None, max_spool=args.max_spool,
                       **dataclasses.asdict(options))
    with writer:
        for frame in source.frames():
            writer.append(frame)
        writer.end_time = getattr(source, "end_time", None)
        if getattr(source, "loop", None) is not None and args.loop is None:
            writer.options = dataclasses.replace(writer.options, loop=source.loop)
    if not args.quiet:
        damaged_after = getattr(source, "damaged_after", None)
        if damaged_after is not None:
            print(f"gifsom: warning: the input is damaged; kept the {damaged_after} frames before the damage",
                  file=sys.stderr)
        print(f"wrote {args.output}: {writer.frames_written} frames, {writer.bytes_written / 1024:.1f} KiB",
              file=_summary_stream(args.output))
    return 0


def _run_encode(args: argparse.Namespace) -> int:
    from .gif.output import check_gif_path
    from .sources.pipe import PipeSource, parse_size

    size = parse_size(args.size) if args.size else None
    check_gif_path(args.output)
    if args.input == "-":
        return _write(PipeSource(sys.stdin.buffer, size=size, fps=args.fps, pix_fmt=args.pix_fmt,
                                 partial_ok=args.partial_ok), args, args.fps)
    try:
        stream = open(args.input, "rb")
    except OSError as exc:
        raise InputError(f"cannot open {args.input!r}: {exc.strerror}; check the path") from None
    with stream:
        return _write(PipeSource(stream, size=size, fps=args.fps, pix_fmt=args.pix_fmt, partial_ok=args.partial_ok,
                                 name=repr(args.input)), args, args.fps)


def _run_record(args: argparse.Namespace) -> int:
    from .gif.output import check_gif_path
    from .recorder import record
    from .sources.screen import Region

    region = Region.parse(args.region) if args.region else None
    options = _encode_options(args)
    check_gif_path(args.output)
    report = record(args.output, region=region, monitor=args.monitor, fps=args.fps, duration=args.duration,
                    max_frames=args.max_frames, countdown=args.countdown, cursor=args.cursor,
                    status=False if args.quiet else None, max_spool=args.max_spool,
                    **dataclasses.asdict(options))
    if not args.quiet:
        print(report.summary(), file=_summary_stream(args.output))
    return 0


def _run_palette(args: argparse.Namespace) -> int:
    from .palette.report import palette_report

    palette_report(args.input, colors=args.colors, quality=args.quality, refine=args.refine, dither=args.dither,
                   plot=args.plot, save=args.save)
    return 0


def main(*argv: str) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    args_list: Sequence[str] = argv if argv else sys.argv[1:]
    parser = build_parser()
    debug = "--debug" in args_list
    try:
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_help()
            return 2
        if args.command == "convert":
            return _run_convert(args)
        if args.command == "record":
            return _run_record(args)
        if args.command == "encode":
            return _run_encode(args)
        if args.command == "palette":
            return _run_palette(args)
        raise OptionError(f"unknown command {args.command!r}")
    except GifsomError as exc:
        if debug:
            traceback.print_exc()
        print(f"gifsom: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("gifsom: interrupted; no output was written", file=sys.stderr)
        return 130
    except MemoryError:
        if debug:
            traceback.print_exc()
        print("gifsom: error: out of memory; use a smaller --width or --fps, or a shorter clip", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: still one line, and no output file (writers clean up on the way out)
        if debug:
            traceback.print_exc()
        print(f"gifsom: internal error: {type(exc).__name__}: {exc}; please report it "
              "(run again with --debug for the traceback)", file=sys.stderr)
        return 1


def entry_point() -> None:
    """Console-script entry: exit with :func:`main`'s code."""
    sys.exit(main())
