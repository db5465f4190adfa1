"""The command line's parser: flags, their help, and argument types that read syntax only.

Ranges and choices are checked once, by the options types the commands build
(:mod:`gifsom.checks`); their messages name the flag through :mod:`gifsom.cli.flags`.
"""

from __future__ import annotations

import argparse

from .. import __version__
from ..errors import OptionError
from ..checks import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SPOOL
from ..limits import parse_bytes
from ..mapping.dither import DITHER_MODES
from ..options import CONTENT_KINDS, DEFAULT_QUALITY, PALETTE_SCOPES
from ..presets import PRESETS, describe_size

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
  gifsom convert a.mp4 b.mov c.gif -o out/
  gifsom convert talk.mp4 crop.gif --crop 100,50,640,360 --boomerang
  ffmpeg -i in.mp4 -f yuv4mpegpipe - | gifsom encode - out.gif
  gifsom palette photo.jpg --colors 64 --plot palette.png --save palette.gpl
  gifsom convert talk.mp4 talk.gif --for github
  gifsom info talk.gif

Run 'gifsom COMMAND --help' for the options of each command.
"""


class Parser(argparse.ArgumentParser):
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


def _number(kind: type, flag: str):
    """An argparse type that reads an int or a float; ranges are checked by the options types."""
    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} {text!r} is not {'an integer' if kind is int else 'a number'}") from None
    return parse


def _renamed(flag: str, now: str):
    """An argparse type that refuses a flag whose meaning moved to ``now``."""
    def parse(text: str):
        raise argparse.ArgumentTypeError(f"{flag} is no longer the NeuQuant sampling factor; use {now} {text}")
    return parse


def _size(text: str) -> int:
    try:
        return parse_bytes(text)
    except OptionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_encoding_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("palette and colour")
    group.add_argument("--colors", type=_number(int, "--colors"), default=None, metavar="N",
                       help="palette size, 2 to 256 (default: the quality's, 256 but for flat pictures below "
                            "quality 90; a learned palette for an animation leaves one slot for transparency)")
    group.add_argument("--quality", type=_number(int, "--quality"), default=None, metavar="Q",
                       help=f"1 to 100: smaller files (lower) or a better look (higher), as gifski's --quality; "
                            f"sets the dither, lossy LZW, colours and palette scope not given, for the clip's "
                            f"content (default {DEFAULT_QUALITY})")
    group.add_argument("--content", default=None, metavar="{" + ",".join(CONTENT_KINDS) + "}",
                       help="what the clip shows, which changes what --quality sets: flat (user interfaces, "
                            "terminals, cartoons), clean (pictures with texture: web pages with photos, games) "
                            "or noisy (camera video); default: judged from the frames")
    group.add_argument("--sample-factor", type=_number(int, "--sample-factor"), default=10, metavar="F",
                       help="NeuQuant sampling factor with --no-refine: 1 is slowest and best, 30 fastest "
                            "(default 10); by default the SOM only seeds the refinement and this has no effect")
    group.add_argument("--no-refine", dest="refine", action="store_false",
                       help="pure NeuQuant: skip the convergence phase that follows the SOM")
    group.add_argument("--palette", default=None, metavar="{" + ",".join(PALETTE_SCOPES) + "}",
                       help="a palette per scene, new where the picture cuts (scene: one palette for a clip "
                            "with no cut), also new where a scene's colours drift, every 8 frames at most "
                            "(drift), one palette for the clip (global), or one per frame (default: the "
                            "quality's: scene below 90, drift from 90 for camera video that keeps changing, "
                            "frame from 95 for clips that keep changing)")
    group.add_argument("--fixed-color", dest="fixed_colors", action="append", default=[], metavar="RRGGBB",
                       help="a colour that must be in the palette as it is (repeatable)")
    group.add_argument("--dither", default=None, metavar="{" + ",".join(DITHER_MODES) + "}",
                       help="dither mode (default: the quality's; see the README for the trade-offs)")
    group.add_argument("--dither-strength", type=_number(float, "--dither-strength"), default=None,
                       metavar="S", help="0 to 1, how strongly to dither (default: 1 with --dither, else the "
                                         "quality's)")
    group.add_argument("--motion-threshold", type=_number(int, "--motion-threshold"), default=None,
                       metavar="T", help="a pixel that changed by at most T on every channel keeps its colour "
                                         "from the previous frame (default 0: exact)")
    group.add_argument("--no-temporal", dest="temporal", action="store_false",
                       help="map every frame afresh instead of keeping unchanged pixels' colours "
                            "(only useful to measure what temporal stability saves)")
    out = parser.add_argument_group("output")
    out.add_argument("--lossy", type=_number(int, "--lossy"), default=None, metavar="N",
                     help="lossy LZW: let pixels move up to N (RGB distance) in colour when that compresses "
                          "better, and treat screen pixels within N as unchanged (default: the quality's; "
                          "try 10..40)")
    out.add_argument("--loop", type=_number(int, "--loop"), default=None, metavar="N",
                     help="0 loops forever (default), N repeats N times, -1 plays once")
    out.add_argument("--matte", type=str, default=None, metavar="RRGGBB",
                     help="blend partly transparent pixels onto this colour")
    out.add_argument("--max-spool", type=_size, default=DEFAULT_MAX_SPOOL, metavar="SIZE",
                     help="refuse clips whose raw frames would take more than SIZE (such as 500M or 64GiB; "
                          "K, M, G are powers of 1000, KiB, MiB, GiB of 1024; default 64GiB)")
    out.add_argument("--live", action=argparse.BooleanOptionalAction, default=None,
                     help="encode while frames arrive, learning a new palette where the picture moves away from "
                          "the last (default: on for record, off for convert and encode, whose one palette comes "
                          "from the whole clip); --reverse, --boomerang, --max-size, --for and --palette global "
                          "still encode after the last frame")
    timeline = parser.add_argument_group("timeline")
    timeline.add_argument("--reverse", action="store_true", help="play the clip backwards")
    timeline.add_argument("--boomerang", action="store_true",
                          help="play forwards, then backwards (the turning frames once), looping seamlessly")
    timeline.add_argument("--max-idle", type=_number(float, "--max-idle"), default=None, metavar="SECONDS",
                          help="cut any picture shown unchanged for longer to SECONDS (pauses in a recording)")
    timeline.add_argument("--hold-last", type=_number(float, "--hold-last"), default=None, metavar="SECONDS",
                          help="show the last frame SECONDS longer before the loop restarts")
    fit = parser.add_argument_group("fit under a size")
    fit.add_argument("--max-size", type=_size, default=None, metavar="SIZE",
                     help="the best-looking GIF of at most SIZE bytes, such as 10M, 128K, 2.5MB or 1MiB (K, M, G "
                          "are powers of 1000, as upload limits count; KiB, MiB, GiB powers of 1024). gifsom "
                          "trades lossy LZW, colours, scale and frame rate, cheapest first for this clip; "
                          "--lossy and --colors, when given, stay as given")
    fit.add_argument("--for", dest="target", default=None, metavar="TARGET",
                     help="fit the limits a place publishes: " + ", ".join(
                         f"{p.name} ({describe_size(p.max_bytes)}"
                         + (f", {p.max_width}x{p.max_height}" if p.max_width else "")
                         + (f", {p.max_frames} frames" if p.max_frames else "") + ")" for p in PRESETS.values())
                     + "; --max-size overrides the size")
    out.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary")
    out.add_argument("--debug", action="store_true", help="show a traceback on errors")


def _add_max_pixels(group, prefix: str) -> None:
    group.add_argument("--max-pixels", type=_number(int, "--max-pixels"), default=DEFAULT_MAX_PIXELS, metavar="N",
                       help=f"{prefix}refuse a canvas of more than N pixels, a guard against decompression bombs "
                            f"(default {DEFAULT_MAX_PIXELS:,})")


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("frames")
    group.add_argument("--fps", type=_number(float, "--fps"), default=None,
                       help="output frame rate (frames are dropped or repeated on the input's timeline); "
                            "default: the input's own rate (10 for image sequences)")
    group.add_argument("--width", type=_number(int, "--width"), default=None,
                       help="output width in pixels (keeps the aspect ratio unless --height is given too)")
    group.add_argument("--height", type=_number(int, "--height"), default=None,
                       help="output height in pixels")
    group.add_argument("--start", type=parse_time, default=None, metavar="TIME",
                       help="start at this time of the input (seconds or HH:MM:SS.ms)")
    group.add_argument("--end", type=parse_time, default=None, metavar="TIME",
                       help="stop at this time of the input")
    group.add_argument("--speed", type=_number(float, "--speed"), default=1.0, metavar="X",
                       help="play X times faster (0.5 is half speed)")
    group.add_argument("--crop", default=None, metavar="X,Y,W,H",
                       help="keep only this rectangle of each frame, before scaling: X,Y,W,H or X11's WxH+X+Y")
    group.add_argument("--resize-to-first", action="store_true",
                       help="image sequences: scale frames of another size to the first frame's size")
    group.add_argument("--partial-ok", action="store_true",
                       help="GIF input: if the file is damaged or cut short, keep the frames before the damage")
    _add_max_pixels(group, "GIF input: ")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="gifsom", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gifsom {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    convert = commands.add_parser(
        "convert", help="turn a video, image sequence or GIF into an optimised GIF",
        description="Convert INPUT to an animated GIF. INPUT is a video file (anything ffmpeg reads: "
                    "mp4, webm, mkv, mov, ...), a GIF (re-encoded and optimised, keeping its timing and "
                    "loop count), an image, a folder of images, or a quoted glob such as \"shots/*.png\" "
                    "(natural order: frame2 before frame10).")
    convert.add_argument("paths", nargs="+", metavar="INPUT [OUTPUT.gif]",
                         help="one input and the GIF to write; or, with -o FOLDER, any number of inputs")
    convert.add_argument("-o", "--output-dir", default=None, metavar="FOLDER",
                         help="convert every INPUT to FOLDER/<name>.gif, each with its own palette; a failed "
                              "input does not stop the others")
    _add_source_options(convert)
    _add_encoding_options(convert)

    record = commands.add_parser(
        "record", help="record part of the screen into a GIF",
        description="Record the screen (or a region of it, a window, or a rectangle you drag) into an animated "
                    "GIF, on X11 or, through the desktop portal, on Wayland. Without --duration or --max-frames "
                    "it records until Ctrl+C or SIGTERM. The GIF is encoded while you record, so it is on disk "
                    "moments after Stop; a second Ctrl+C while it is finished aborts and writes nothing. Frames "
                    "are spooled to a temporary file (deflated), so long takes do not fill memory.")
    record.add_argument("output", help="the GIF to write")
    grab = record.add_argument_group("capture")
    grab.add_argument("--region", metavar="X,Y,W,H",
                      help="the rectangle to record: X,Y,W,H or X11's WxH+X+Y, or 'last' for the region recorded "
                           "last (default: the whole monitor)")
    grab.add_argument("--select", action="store_true",
                      help="drag a rectangle on a still picture of the screen to choose what to record (Esc "
                           "cancels); with slop installed, slop draws it")
    grab.add_argument("--backend", default=None, metavar="{x11,portal}",
                      help="how to grab the screen: x11 (mss) or portal (the desktop portal and PipeWire, for "
                           "Wayland); default: portal in a Wayland session, else x11")
    grab.add_argument("--forget-permission", action="store_true",
                      help="portal: forget the screen-sharing permission kept from the last take, so that the "
                           "dialog asks again")
    grab.add_argument("--window", nargs="?", const="", default=None, metavar="TITLE",
                      help="record one window and follow it when it moves: the first window whose title holds "
                           "TITLE, or the one you click (needs xdotool); the GIF keeps its first size")
    grab.add_argument("--monitor", type=_number(int, "--monitor"), default=1, metavar="N",
                      help="monitor to record when no region is given (1 is the primary)")
    grab.add_argument("--fps", type=_number(float, "--fps"), default=10.0,
                      help="frames per second (default 10)")
    grab.add_argument("--duration", type=parse_time, default=None, metavar="TIME",
                      help="stop after this long (seconds or HH:MM:SS); default: until Ctrl+C")
    grab.add_argument("--max-frames", type=_number(int, "--max-frames"), default=None, metavar="N",
                      help="stop after N frames")
    grab.add_argument("--countdown", type=_number(float, "--countdown"), default=0.0, metavar="S",
                      help="wait S seconds before recording")
    grab.add_argument("--cursor", dest="cursor", action="store_true", default=True,
                      help="draw the mouse pointer (default)")
    grab.add_argument("--no-cursor", dest="cursor", action="store_false", help="leave the mouse pointer out")
    grab.add_argument("--width", type=_number(int, "--width"), default=None,
                      help="scale frames to this width as they are captured (keeps the aspect ratio unless "
                           "--height is given too)")
    grab.add_argument("--height", type=_number(int, "--height"), default=None, help="scale frames to this height")
    grab.add_argument("--scale", type=_number(float, "--scale"), default=None, metavar="S",
                      help="scale frames by S as they are captured (0.5 halves a HiDPI screen)")
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
    frames.add_argument("--fps", type=_number(float, "--fps"), default=None,
                        help="rate of raw frames (required for raw); for y4m, a rate to resample to")
    frames.add_argument("--pix-fmt", default="rgb24", metavar="{rgb24,rgba}", help="layout of raw frames")
    frames.add_argument("--crop", default=None, metavar="X,Y,W,H",
                        help="keep only this rectangle of each frame: X,Y,W,H or X11's WxH+X+Y")
    frames.add_argument("--partial-ok", action="store_true",
                        help="if the stream ends inside a frame, write the frames before it instead of failing")
    _add_encoding_options(encode)

    info = commands.add_parser(
        "info", help="describe a GIF: size, frames, timing, palettes, and the limits it breaks",
        description="Describe FILE.gif: bytes, dimensions, frames, duration, loop count, the global palette "
                    "and how many local ones, the shortest and longest delay, and transparency. Warns about "
                    "delays browsers slow down (under 2 cs) and about the --for targets' limits it breaks.")
    info.add_argument("input", metavar="FILE.gif", help="the GIF to describe")
    info.add_argument("--json", action="store_true", help="print one JSON object instead, for scripts")
    _add_max_pixels(info, "")
    info.add_argument("--debug", action="store_true", help="show a traceback on errors")

    palette = commands.add_parser(
        "palette", help="learn and show the SOM palette of an image or clip",
        description="Learn the palette of INPUT (an image or any clip convert reads) and report its quality. "
                    "--plot draws the input, the quantized output, the index map and the used colours "
                    "as swatches; --save writes a GIMP palette.")
    palette.add_argument("input", help="image, video, GIF, folder or glob")
    palette.add_argument("--colors", type=_number(int, "--colors"), default=256, metavar="N",
                         help="palette size, 2 to 256 (default 256)")
    palette.add_argument("--sample-factor", type=_number(int, "--sample-factor"), default=10, metavar="F",
                         help="NeuQuant sampling factor with --no-refine, 1 to 30 (default 10)")
    palette.add_argument("--quality", type=_renamed("--quality", "--sample-factor"), default=None,
                         help=argparse.SUPPRESS)
    palette.add_argument("--no-refine", dest="refine", action="store_false", help="pure NeuQuant")
    palette.add_argument("--dither", default="none", metavar="{" + ",".join(DITHER_MODES) + "}",
                         help="dither used for the plot")
    palette.add_argument("--plot", metavar="PNG", help="write the picture of the palette here")
    palette.add_argument("--save", metavar="GPL", help="write the palette as a GIMP palette file here")
    palette.add_argument("--debug", action="store_true", help="show a traceback on errors")
    return parser


