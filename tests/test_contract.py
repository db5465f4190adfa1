"""The contract between the command line, the library and the stages: one check per option,
messages that name the option as the caller knows it, typed keywords, and imports that point one way."""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

import numpy as np
import pytest

import gifsom
from gifsom import EncodeFields, EncodeOptions, cli
from gifsom.errors import OptionError
from gifsom.sources.base import SourceBase
from gifsom.sources.gif import GifSource
from gifsom.sources.images import ImageSequenceSource
from gifsom.sources.pipe import PipeSource
from gifsom.sources.screen import ScreenSource
from gifsom.sources.video import VideoSource

from .conftest import FIXTURES

PACKAGE = Path(gifsom.__file__).parent


@pytest.mark.parametrize("call, message", [
    (lambda: list(gifsom.read_frames(FIXTURES / "pan.mp4", fps=200)), "fps=200 is out of range"),
    (lambda: gifsom.GifWriter("x.gif", 200), "fps=200 is out of range"),
    (lambda: gifsom.GifWriter("x.gif", colors=300), "colors=300 is out of range"),
    (lambda: gifsom.encode([], "x.gif", dither="bogus"), "dither='bogus' is not a dither mode"),
    (lambda: gifsom.record("x.gif", fps=0, duration=1), "fps=0 is out of range"),
    (lambda: gifsom.record("x.gif", countdown=-1, duration=1), "countdown=-1 is out of range"),
    (lambda: gifsom.quantize(np.zeros((2, 2, 3), np.uint8), dither_strength=2.0), "dither_strength=2 is out of range"),
])
def test_library_messages_name_the_parameter(call, message):
    with pytest.raises(OptionError) as caught:
        call()
    assert str(caught.value).startswith(message)
    assert "--" not in str(caught.value).split(";")[0]


@pytest.mark.parametrize("args, message", [
    (["convert", str(FIXTURES / "pan.mp4"), "out.gif", "--fps", "200"], "--fps 200 is out of range"),
    (["convert", str(FIXTURES / "pan.mp4"), "out.gif", "--colors", "300"], "--colors 300 is out of range"),
    (["convert", str(FIXTURES / "pan.mp4"), "out.gif", "--dither", "bogus"], "--dither bogus is not a dither mode"),
    (["convert", str(FIXTURES / "pan.mp4"), "out.gif", "--dither-strength", "2"], "--dither-strength 2 is out of range"),
    (["encode", "-", "out.gif", "--pix-fmt", "yuv"], "--pix-fmt yuv is not a raw pixel format"),
    (["record", "out.gif", "--fps", "0"], "--fps 0 is out of range"),
    (["record", "out.gif", "--countdown", "-1"], "--countdown -1 is out of range"),
])
def test_command_line_messages_name_the_flag(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    assert cli.main(*args) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"gifsom: error: {message}") and error.count("\n") == 1
    assert not (tmp_path / "out.gif").exists()


def test_one_limit_per_quantity():
    # the frame rate: the same limit for every way in
    for call in (lambda fps: gifsom.GifWriter("x.gif", fps), lambda fps: list(gifsom.read_frames(FIXTURES / "pan.mp4", fps=fps))):
        with pytest.raises(OptionError):
            call(100.5)
    assert gifsom.GifWriter("x.gif", 100).fps == 100


def test_typed_keywords_mirror_the_options():
    assert typing.get_type_hints(EncodeFields) == typing.get_type_hints(EncodeOptions)
    with pytest.raises(OptionError, match="'colours' is not an encoding option"):
        gifsom.GifWriter("x.gif", colours=64)


def test_encode_returns_what_it_wrote(tmp_path):
    path = tmp_path / "two.gif"
    result = gifsom.encode([np.zeros((4, 4, 3), np.uint8), np.full((4, 4, 3), 255, np.uint8)], path, fps=5)
    assert dataclasses.asdict(result) == {"path": path, "frames": 2, "bytes": path.stat().st_size, "fit": None}


@pytest.mark.parametrize("source", [GifSource, ImageSequenceSource, PipeSource, ScreenSource, VideoSource])
def test_every_source_declares_the_whole_protocol(source):
    assert issubclass(source, SourceBase)
    for member in ("fps", "loop", "end_time", "warning", "frames", "plan"):
        assert hasattr(source, member), member


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = "gifsom.palette" if node.level == 1 else "gifsom" if node.level == 2 else ""
            found.add(f"{base}.{node.module}" if base and node.module else base or node.module or "")
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_palette_package_knows_pixels_only():
    forbidden = ("gifsom.mapping", "gifsom.writer", "gifsom.output", "gifsom.sources", "gifsom.cli", "gifsom.gif", "gifsom.encoder")
    for module in sorted((PACKAGE / "palette").glob("*.py")):
        bad = [name for name in _imports(module) if name.startswith(forbidden)]
        assert not bad, f"{module.name} imports {bad}"


def test_every_gifsom_type_in_a_public_signature_is_exported():
    """A user can name every type the public functions take or return: ``gifsom.SizeLimit``, not
    ``gifsom.fit.SizeLimit``."""
    import typing

    import gifsom

    def gifsom_types(annotation) -> set:
        found = set()
        if isinstance(annotation, type) and annotation.__module__.startswith("gifsom"):
            found.add(annotation)
        for argument in typing.get_args(annotation):
            found |= gifsom_types(argument)
        return found

    try:
        from typing import Unpack            # only imported for type checkers in gifsom
    except ImportError:                     # Python 3.10
        from typing_extensions import Unpack
    used = set()
    for function in (gifsom.encode, gifsom.GifWriter.__init__, gifsom.record, gifsom.read_frames,
                     gifsom.learn_palette, gifsom.quantize):
        hints = typing.get_type_hints(function, localns={"Unpack": Unpack})
        for annotation in hints.values():
            used |= gifsom_types(annotation)
    missing = sorted(t.__name__ for t in used if getattr(gifsom, t.__name__, None) is not t)
    assert used and not missing, missing
    assert all(hasattr(gifsom, name) for name in gifsom.__all__)
