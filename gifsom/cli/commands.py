"""What each command does with its parsed arguments: build the options once, open the source, write the GIF."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import GifsomError, InputError, OptionError
from ..fit_terms import SizeLimit, size_limit as fit_limit
from ..limits import check_clip_budget
from ..options import EncodeOptions, parse_colour
from ..output import STDOUT, GifPath, check_gif_path
from ..presets import describe_size
from ..sources.base import FrameSource, Rectangle
from ..timeline import TimelineEdits
from ..writer import EncodeResult, encode
from . import flags


def encode_options(args: argparse.Namespace) -> EncodeOptions:
    """The encoding options the flags ask for (checked here, once, before any work)."""
    fields = dict(colors=args.colors, quality=args.quality, sample_factor=args.sample_factor, refine=args.refine,
                  palette=args.palette, fixed_colors=tuple(parse_colour(c) for c in args.fixed_colors),
                  dither=args.dither, dither_strength=args.dither_strength, loop=0 if args.loop is None else args.loop,
                  matte=parse_colour(args.matte) if args.matte else None, lossy=args.lossy,
                  temporal=args.temporal, content=args.content)
    if args.motion_threshold is not None:
        fields["motion_threshold"] = args.motion_threshold
    return EncodeOptions(**fields)


def size_limit(args: argparse.Namespace) -> SizeLimit | None:
    """What ``--max-size`` and ``--for`` ask the GIF to fit in (``--max-size`` overrides the target's size)."""
    return fit_limit(args.max_size, args.target)


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).exists() and Path(b).exists() and os.path.samefile(a, b)
    except OSError:
        return False


def summary_stream(target: GifPath):
    """Where the closing summary goes: stderr when the GIF itself goes to stdout."""
    return sys.stderr if target.to_stdout else sys.stdout


def crop_rectangle(text: str | None) -> Rectangle | None:
    """The ``--crop`` rectangle, or None."""
    return None if text is None else Rectangle.parse(text, "crop")


def timeline_edits(args: argparse.Namespace) -> TimelineEdits:
    return TimelineEdits(reverse=args.reverse, boomerang=args.boomerang, max_idle=args.max_idle,
                         hold_last=args.hold_last)


@dataclass(frozen=True)
class Job:
    """Everything a command settled before reading any frame."""

    options: EncodeOptions
    limit: SizeLimit | None
    edits: TimelineEdits
    live: bool


def job_of(args: argparse.Namespace, *, live: bool = False) -> Job:
    """The encoding options, size limit, edits and way of encoding the flags ask for, checked once;
    ``live`` is the command's own default for ``--live``."""
    return Job(encode_options(args), size_limit(args), timeline_edits(args), live if args.live is None else args.live)


def run_convert(args: argparse.Namespace) -> int:
    from ..sources import SourceOptions

    source_options = SourceOptions(fps=args.fps, width=args.width, height=args.height, start=args.start,
                                   end=args.end, speed=args.speed, max_pixels=args.max_pixels,
                                   partial_ok=args.partial_ok, crop=crop_rectangle(args.crop))
    job = job_of(args)
    if args.output_dir is not None:
        return run_batch(args, source_options, job)
    if len(args.paths) != 2:
        raise OptionError(f"convert takes one input and the GIF to write, or several inputs with -o FOLDER "
                          f"(got {len(args.paths)} paths): gifsom convert a.mp4 a.gif, or "
                          "gifsom convert a.mp4 b.mov -o out/")
    source, output = args.paths
    result, warning = convert_one(source, output, source_options, job, args, bar=False if args.quiet else None)
    report(result, warning, job.limit, args)
    return 0


def convert_one(source_path: str, output: str | GifPath, source_options, job: Job, args: argparse.Namespace,
                *, bar: bool | None) -> tuple[EncodeResult, str | None]:
    """Convert one input; returns what was written and the source's warning, if any."""
    from ..sources import open_source
    from ..sources.video import VideoSource

    name = str(output)
    if source_path == "-":
        raise OptionError("convert reads files; for frames on standard input use gifsom encode - OUTPUT.gif "
                          "(y4m, or raw frames with --size and --fps)")
    if _same_file(source_path, name) or os.path.abspath(source_path) == os.path.abspath(name):
        raise OptionError(f"output {name!r} is the input; write to another file")
    target = check_gif_path(output)
    source = open_source(source_path, source_options, resize_to_first=args.resize_to_first)
    plan = source.plan()
    if plan is not None:          # refuse a clip that cannot fit before decoding any of it
        check_clip_budget(plan.frames, plan.width, plan.height, plan.channels, args.max_spool,
                          compressible=plan.compressible)
        if job.limit is None and not args.quiet and isinstance(source, VideoSource):
            _warn_if_huge(plan, source_path)     # the estimate is video's: screenshots shrink far more
    options = job.options
    if args.loop is None and source.loop is not None:
        options = dataclasses.replace(options, loop=source.loop)
    return write(source, target, dataclasses.replace(job, options=options), args, args.fps, bar=bar), source.warning


#: Bytes a default GIF of video takes per pixel of every frame, at the least: what the bundled
#: clips need ranges from 0.48 (a smooth pan) to 0.66 (small, busy video); a third of that is
#: a safe floor for "clearly huge".
LEAST_BYTES_PER_PIXEL = 0.2
#: A default convert predicted to write more than this gets a warning before it starts.
HUGE_GIF_BYTES = 50_000_000


def _warn_if_huge(plan, source_path: str) -> None:
    """Warn once, before encoding, when the GIF will clearly be huge."""
    predicted = plan.frames * plan.width * plan.height * LEAST_BYTES_PER_PIXEL
    if predicted > HUGE_GIF_BYTES:
        print(f"gifsom: warning: {source_path}: {plan.frames} frames of {plan.width}x{plan.height} will make a GIF "
              f"of {describe_size(int(predicted))} or more; for a smaller one add --width 480 (or --fps 10), "
              "or --for github to fit 10 MB", file=sys.stderr)


def write(source: FrameSource, target: GifPath, job: Job, args: argparse.Namespace, fps: float | None,
          *, bar: bool | None) -> EncodeResult:
    """Encode every frame of ``source`` into ``target`` through the library's one entry point."""
    return encode(source, target, fps, bar=bar, max_spool=args.max_spool, max_size=job.limit, edits=job.edits,
                  live=job.live, options=job.options)


def report(result: EncodeResult, warning: str | None, limit: SizeLimit | None, args: argparse.Namespace) -> None:
    """The closing lines of a command that wrote one GIF."""
    if warning:
        print(f"gifsom: warning: {warning}", file=sys.stderr)
    if not args.quiet:
        stream = sys.stderr if result.path is None else sys.stdout     # the GIF itself may be on stdout
        if result.fit is not None and limit is not None:
            print(fit_summary(result.fit.description, result.bytes, limit), file=stream)
        print(f"wrote {STDOUT if result.path is None else result.path}: {result.frames} frames, "
              f"{result.bytes / 1024:.1f} KiB", file=stream)


def fit_summary(description: str, size: int, limit: SizeLimit) -> str:
    """``"fit 9.7 MB under 10 MB: 480 px wide, 12 fps, lossy 20, 256 colours"``."""
    return f"fit {describe_size(size)} under {describe_size(limit.max_bytes)}: {description}"


def run_encode(args: argparse.Namespace) -> int:
    from ..sources.pipe import PipeOptions, PipeSource, parse_size

    pipe_options = PipeOptions(size=parse_size(args.size) if args.size else None, fps=args.fps,
                               pix_fmt=args.pix_fmt, partial_ok=args.partial_ok, crop=crop_rectangle(args.crop))
    job = job_of(args)
    target = check_gif_path(args.output)
    bar = False if args.quiet else None
    if args.input == "-":
        report(write(PipeSource(sys.stdin.buffer, pipe_options), target, job, args, args.fps, bar=bar), None,
               job.limit, args)
        return 0
    try:
        stream = open(args.input, "rb")
    except OSError as exc:
        raise InputError(f"cannot open {args.input!r}: {exc.strerror}; check the path") from None
    with stream:
        result = write(PipeSource(stream, pipe_options, name=repr(args.input)), target, job, args, args.fps, bar=bar)
    report(result, None, job.limit, args)
    return 0


def run_record(args: argparse.Namespace) -> int:
    from ..recorder import record

    job = job_of(args, live=True)
    target = check_gif_path(args.output)
    chosen = [flag for flag, given in (("--region", args.region is not None), ("--select", args.select),
                                       ("--window", args.window is not None)) if given]
    if len(chosen) > 1:
        raise OptionError(f"{' and '.join(chosen)} each say what to record; give one of them")
    taken = record(target, region="select" if args.select else args.region, window=args.window, backend=args.backend,
                   forget_permission=args.forget_permission, monitor=args.monitor, fps=args.fps, duration=args.duration,
                   max_frames=args.max_frames, countdown=args.countdown, cursor=args.cursor,
                   width=args.width, height=args.height, scale=args.scale,
                   status=False if args.quiet else None, max_spool=args.max_spool, max_size=job.limit,
                   edits=job.edits, live=job.live, options=job.options)
    if not args.quiet:
        if taken.fit is not None and job.limit is not None:
            print(fit_summary(taken.fit.description, taken.gif_bytes, job.limit), file=summary_stream(target))
        print(taken.summary(), file=summary_stream(target))
    return 0


def run_palette(args: argparse.Namespace) -> int:
    from .palette_report import palette_report

    palette_report(args.input, colors=args.colors, sample_factor=args.sample_factor, refine=args.refine,
                   dither=args.dither, plot=args.plot, save=args.save)
    return 0


def run_info(args: argparse.Namespace) -> int:
    from .info import describe_gif

    describe_gif(args.input, as_json=args.json, max_pixels=args.max_pixels)
    return 0


def output_stem(path: str) -> str:
    """The name an input's GIF gets with ``-o``: the file's stem, or for a folder or a glob
    (``"shots/*.png"``, ``"shots/frame_*.png"``) what the pattern names without its wildcards,
    else the folder the pattern is in."""
    given = Path(path.rstrip("/") or "/")
    stem = re.sub(r"[*?]|\[[^]]*\]", "", given.stem).strip(" ._-")
    if stem and not any(ch in given.stem for ch in "*?["):
        return given.stem
    if stem:
        return stem
    folder = given.parent
    while any(ch in folder.name for ch in "*?["):
        folder = folder.parent
    return folder.resolve().name or "frames"


def run_batch(args: argparse.Namespace, source_options, job: Job) -> int:
    """``convert a.mp4 b.mov c.gif -o out/``: each input to ``out/<name>.gif`` with its own palette.

    Every input is tried, whatever happened to the ones before; the exit code is 1 if any failed.
    """
    folder = Path(args.output_dir)
    if folder.exists() and not folder.is_dir():
        raise OptionError(f"-o {args.output_dir!r} is a file; give a folder for the GIFs")
    if not folder.exists() and folder.suffix.lower() == ".gif":
        raise OptionError(f"-o names a folder, one GIF per input; to write {args.output_dir!r}, give it after "
                          f"the input: gifsom convert INPUT {args.output_dir}")
    outputs = [folder / (output_stem(path) + ".gif") for path in args.paths]
    seen: dict[Path, str] = {}
    for path, output in zip(args.paths, outputs):
        if output in seen:
            raise OptionError(f"inputs {seen[output]!r} and {path!r} would both write {str(output)!r}; "
                              "rename one, or convert them in two runs")
        seen[output] = path
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, int | None, int | None, float, str | None]] = []
    for number, (path, output) in enumerate(zip(args.paths, outputs), start=1):
        if not args.quiet:
            print(f"[{number}/{len(outputs)}] {path} -> {output}", flush=True)
        start = time.perf_counter()
        try:
            result, warning = convert_one(path, str(output), source_options, job, args,
                                          bar=False if args.quiet else None)
        except GifsomError as exc:
            rows.append((path, str(output), None, None, time.perf_counter() - start, flags.message(exc)))
            print(f"gifsom: error: {path}: {flags.message(exc)}", file=sys.stderr)
            continue
        if warning:
            print(f"gifsom: warning: {path}: {warning}", file=sys.stderr)
        rows.append((path, str(output), result.frames, result.bytes, time.perf_counter() - start,
                     None))
    failed = [row for row in rows if row[5] is not None]
    if not args.quiet:
        _print_batch_table(rows)
    if failed:
        names = ", ".join(row[0] for row in failed)
        print(f"gifsom: error: {len(failed)} of {len(rows)} inputs failed: {names}", file=sys.stderr)
        return 1
    return 0


def _print_batch_table(rows: list[tuple]) -> None:
    width = max(len("input"), *(len(row[0]) for row in rows))
    print(f"{'input':{width}s}  {'frames':>6s}  {'KiB':>9s}  {'seconds':>7s}  result")
    for path, output, frames, size, seconds, error in rows:
        if error is None:
            print(f"{path:{width}s}  {frames:6d}  {size / 1024:9.1f}  {seconds:7.1f}  {output}")
        else:
            print(f"{path:{width}s}  {'-':>6s}  {'-':>9s}  {seconds:7.1f}  failed: {error}")
