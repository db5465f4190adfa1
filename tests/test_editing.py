"""Everyday editing: --crop, --reverse, --boomerang, --max-idle, --hold-last, batch conversion, and the
palette picture. Each test looks at what a viewer would see in the GIF."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gifsom import TimelineEdits, cli
from gifsom.cli.palette_report import swatch_order
from gifsom.timeline import edit

from .conftest import FIXTURES, decode_gif, psnr

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)


def _gif(path, colours, durations_ms):
    frames = [Image.new("RGB", (8, 6), colour) for colour in colours]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations_ms, loop=0)
    return path


def _shown(path) -> list[tuple[tuple[int, int, int], int]]:
    frames, durations = decode_gif(path)
    return [(tuple(int(v) for v in frame[0, 0]), duration) for frame, duration in zip(frames, durations)]


def test_crop_keeps_the_rectangle_before_scaling(tmp_path):
    from gifsom import read_frames

    source = next(iter(read_frames(FIXTURES / "pan.mp4"))).pixels
    out = tmp_path / "crop.gif"
    assert cli.main("convert", str(FIXTURES / "pan.mp4"), str(out), "--crop", "320x180+100+50", "--end", "0.5",
                    "-q") == 0
    frames, _ = decode_gif(out)
    assert frames[0].shape == (180, 320, 3)
    assert psnr(frames[0], source[50:230, 100:420]) > 30
    scaled = tmp_path / "scaled.gif"
    assert cli.main("convert", str(FIXTURES / "pan.mp4"), str(scaled), "--crop", "100,50,320,180", "--width", "160",
                    "--end", "0.5", "-q") == 0
    assert decode_gif(scaled)[0][0].shape == (90, 160, 3)


def test_crop_on_encode_and_on_gif_input_is_exact(tmp_path):
    frame = np.arange(8 * 6 * 3, dtype=np.uint8).reshape(6, 8, 3) * 3
    raw = tmp_path / "frames.rgb"
    raw.write_bytes(frame.tobytes() * 2)
    out = tmp_path / "piped.gif"
    assert cli.main("encode", str(raw), str(out), "--size", "8x6", "--fps", "5", "--crop", "2,1,4,3", "-q") == 0
    assert np.array_equal(decode_gif(out)[0][0], frame[1:4, 2:6])
    gif = _gif(tmp_path / "in.gif", [RED, GREEN], [100, 100])
    cropped = tmp_path / "cropped.gif"
    assert cli.main("convert", str(gif), str(cropped), "--crop", "1,1,3,2", "-q") == 0
    assert decode_gif(cropped)[0][0].shape == (2, 3, 3)


def test_a_crop_outside_the_frame_names_the_frame_size(tmp_path, capsys):
    out = tmp_path / "x.gif"
    assert cli.main("convert", str(FIXTURES / "pan.mp4"), str(out), "--crop", "600,300,100,100") == 2
    error = capsys.readouterr().err
    assert "--crop 600,300,100,100 is outside the 640x360 frame" in error and error.count("\n") == 1
    assert not out.exists()
    assert cli.main("convert", str(FIXTURES / "pan.mp4"), str(out), "--crop", "left") == 2
    assert "--crop left is not X,Y,W,H" in capsys.readouterr().err


def test_reverse_plays_backwards_with_each_frame_its_own_time(tmp_path):
    gif = _gif(tmp_path / "in.gif", [RED, GREEN, BLUE], [100, 200, 300])
    out = tmp_path / "reversed.gif"
    assert cli.main("convert", str(gif), str(out), "--reverse", "-q") == 0
    assert _shown(out) == [(BLUE, 300), (GREEN, 200), (RED, 100)]


def test_boomerang_turns_without_showing_the_ends_twice(tmp_path):
    gif = _gif(tmp_path / "in.gif", [RED, GREEN, BLUE, WHITE], [100, 200, 300, 400])
    out = tmp_path / "boomerang.gif"
    assert cli.main("convert", str(gif), str(out), "--boomerang", "-q") == 0
    assert _shown(out) == [(RED, 100), (GREEN, 200), (BLUE, 300), (WHITE, 400), (BLUE, 300), (GREEN, 200)]
    with Image.open(out) as image:
        assert image.info["loop"] == 0          # after GREEN comes RED again: a seamless loop


def test_max_idle_cuts_pauses_and_hold_last_lengthens_the_end(tmp_path):
    # a recording: red, a 3 s pause on green (three equal frames), blue
    gif = _gif(tmp_path / "in.gif", [RED, GREEN, GREEN, GREEN, BLUE], [100, 1000, 1000, 1000, 200])
    out = tmp_path / "cut.gif"
    assert cli.main("convert", str(gif), str(out), "--max-idle", "0.5", "--hold-last", "2", "-q") == 0
    assert _shown(out) == [(RED, 100), (GREEN, 500), (BLUE, 2200)]


def test_timeline_edits_compose():
    timeline = edit([0.0, 0.1, 0.3], 0.6, [False, False, False], TimelineEdits(reverse=True, boomerang=True))
    assert timeline.numbers == [2, 1, 0, 1]
    assert np.allclose(np.diff(timeline.timestamps + [timeline.end_time]), [0.3, 0.2, 0.1, 0.2])


@pytest.mark.parametrize("flags, message", [(["--max-idle", "0"], "--max-idle 0 is out of range"),
                                            (["--hold-last", "-1"], "--hold-last -1 is out of range")])
def test_bad_timeline_values(tmp_path, capsys, flags, message):
    assert cli.main("convert", str(FIXTURES / "pan.mp4"), str(tmp_path / "x.gif"), *flags) == 2
    assert message in capsys.readouterr().err


def test_batch_converts_each_input_alone_and_reports_failures(tmp_path, capsys):
    a = _gif(tmp_path / "a.gif", [RED, GREEN], [100, 100])
    b = _gif(tmp_path / "b.gif", [BLUE, WHITE, BLACK], [100, 100, 100])
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    out = tmp_path / "out"
    assert cli.main("convert", str(a), str(broken), str(b), "-o", str(out)) == 1
    said = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["a.gif", "b.gif"]
    assert "1 of 3 inputs failed" in said.err and "broken.mp4" in said.err
    assert "[2/3]" in said.out and "failed:" in said.out and "frames" in said.out
    # each file gets its own palette: the same bytes as converting it alone
    alone = tmp_path / "alone.gif"
    assert cli.main("convert", str(b), str(alone), "-q") == 0
    assert (out / "b.gif").read_bytes() == alone.read_bytes()


def test_batch_refuses_two_inputs_for_one_output_and_the_single_form_needs_two_paths(tmp_path, capsys):
    a = _gif(tmp_path / "a.gif", [RED], [100])
    other = tmp_path / "other"
    other.mkdir()
    b = _gif(other / "a.gif", [GREEN], [100])
    assert cli.main("convert", str(a), str(b), "-o", str(tmp_path / "out")) == 2
    assert "would both write" in capsys.readouterr().err and not (tmp_path / "out").exists()
    assert cli.main("convert", str(a), str(b), str(tmp_path / "c.gif")) == 2
    assert "-o FOLDER" in capsys.readouterr().err


def test_palette_plot_orders_swatches_by_hue_and_lightness(tmp_path):
    palette = np.array([BLUE, (40, 40, 40), RED, (200, 200, 200), (128, 0, 0), GREEN], np.uint8)
    order = swatch_order(palette).tolist()
    assert order[:2] == [1, 3]                      # greys first, dark to light
    assert order[2:] == [4, 2, 5, 0]                # then by hue: reds (dark first), green, blue
    plot = tmp_path / "palette.png"
    assert cli.main("palette", str(FIXTURES / "photo.jpg"), "--colors", "16", "--plot", str(plot)) == 0
    with Image.open(plot) as picture:
        assert picture.width >= 900 and picture.height >= 500


def _sampled(path, count: int, period_ms: float = 100.0) -> list[np.ndarray]:
    """The picture a viewer sees in the middle of each of ``count`` periods."""
    frames, durations = decode_gif(path)
    starts = np.cumsum([0] + durations[:-1])
    return [frames[int(np.searchsorted(starts, (i + 0.5) * period_ms, side="right")) - 1] for i in range(count)]


def test_reverse_and_boomerang_on_the_screen_recording(tmp_path):
    screen = FIXTURES / "screen"
    outputs = {}
    for name, flags in (("forwards", []), ("reverse", ["--reverse"]), ("boomerang", ["--boomerang"])):
        outputs[name] = tmp_path / f"{name}.gif"
        assert cli.main("convert", str(screen), str(outputs[name]), "--fps", "10", "-q", *flags) == 0
    forwards = _sampled(outputs["forwards"], 30)
    reverse = _sampled(outputs["reverse"], 30)
    boomerang = _sampled(outputs["boomerang"], 58)
    assert all(np.array_equal(a, b) for a, b in zip(reverse, forwards[::-1]))
    expected = forwards + forwards[-2:0:-1]
    assert all(np.array_equal(a, b) for a, b in zip(boomerang, expected))
    assert sum(decode_gif(outputs["boomerang"])[1]) == 5800


def test_max_idle_cuts_a_pause_in_the_screen_recording(tmp_path):
    files = sorted((FIXTURES / "screen").glob("*.png"))
    paused = tmp_path / "paused"
    paused.mkdir()
    sequence = files[:10] + [files[10]] * 20 + files[11:]           # a 2 s pause on frame 10
    for number, source in enumerate(sequence):
        (paused / f"frame_{number:03d}.png").symlink_to(source)
    whole, cut = tmp_path / "whole.gif", tmp_path / "cut.gif"
    assert cli.main("convert", str(paused), str(whole), "--fps", "10", "-q") == 0
    assert cli.main("convert", str(paused), str(cut), "--fps", "10", "--max-idle", "0.5", "-q") == 0
    assert sum(decode_gif(whole)[1]) == 4900
    assert sum(decode_gif(cut)[1]) == 3400                         # 2 s on frame 10 became 0.5 s
    shown = _sampled(cut, 34)
    reference = _sampled(whole, 49)
    expected = reference[:10] + [reference[10]] * 5 + reference[30:]
    assert all(np.array_equal(a, b) for a, b in zip(shown, expected))


def test_batch_failures_name_the_flag(tmp_path, capsys):
    gif = _gif(tmp_path / "a.gif", [RED, GREEN], [100, 100])
    assert cli.main("convert", str(gif), "-o", str(tmp_path / "out"), "--crop", "6,0,4,4", "-q") == 1
    assert "--crop 6,0,4,4 is outside the 8x6 frame" in capsys.readouterr().err
