"""Palettes that follow drifting colours: the survey's drift test, the stretches, the pipelined learning."""

from __future__ import annotations

import numpy as np
import pytest
import gifsom
import gifsom.encoder
from gifsom.gif.reader import GifReader
from gifsom.options import DRIFT_PALETTES_FROM, FRAME_PALETTES_FROM, EncodeOptions, knobs_for_quality
from gifsom.palette import stretches
from gifsom.palette.clip import DRIFT_FRAMES, ClipSurvey
from gifsom.palette.learn import PaletteOptions, palette_from_pixels
from gifsom.palette.stretches import clip_stretches

from .conftest import decode_gif


def _pan(photo: np.ndarray, count: int = 40, step: int = 7, noise: int = 3, seed: int = 1) -> list[np.ndarray]:
    """A 128x192 window panned ``step`` pixels a frame along the photo's diagonal, over new things (so its
    colours drift), with sensor-like noise of +-``noise`` levels: a clip where every frame changes."""
    rng = np.random.default_rng(seed)
    frames = []
    for number in range(count):
        top, left = (number * step * 2) // 5, number * step
        window = photo[top:top + 128, left:left + 192].astype(np.int16)
        frames.append(np.clip(window + rng.integers(-noise, noise + 1, window.shape), 0, 255).astype(np.uint8))
    return frames


def _still(photo: np.ndarray, count: int = 40, noise: int = 3, seed: int = 1) -> list[np.ndarray]:
    """One 128x192 window of the photo with fresh noise in every frame: every pixel changes, the colours do not."""
    rng = np.random.default_rng(seed)
    window = photo[100:228, 150:342].astype(np.int16)
    return [np.clip(window + rng.integers(-noise, noise + 1, window.shape), 0, 255).astype(np.uint8)
            for _ in range(count)]


def _survey(frames: list[np.ndarray], **kwargs) -> ClipSurvey:
    survey = ClipSurvey(track_scenes=True, **kwargs)
    for frame in frames:
        survey.add(frame)
    return survey


def _mean_squared_error(path, frames: list[np.ndarray]) -> float:
    shown, _ = decode_gif(path)
    return float(np.mean([(a.astype(np.float64) - b) ** 2 for a, b in zip(shown, frames)]))


def test_the_survey_finds_drift_in_a_pan_over_new_things_and_none_in_a_still_noisy_shot(photo):
    pan = _survey(_pan(photo))
    assert pan.scene_starts == [0]                       # a pan is no cut ...
    assert len(pan.drift_starts) >= 2                    # ... but its colours drift
    assert all(later - earlier >= DRIFT_FRAMES for earlier, later in zip([0, *pan.drift_starts], pan.drift_starts))
    still = _survey(_still(photo))
    assert still.changed_share > 0.5 and still.drift_starts == []


def test_drifting_colours_get_palettes_that_serve_their_frames_better(tmp_path, photo):
    frames = _pan(photo)
    gifsom.encode(frames, tmp_path / "drift.gif", fps=10, palette="drift", dither="none", lossy=0)
    gifsom.encode(frames, tmp_path / "scene.gif", fps=10, palette="scene", dither="none", lossy=0)
    drift = GifReader((tmp_path / "drift.gif").read_bytes(), "drift")
    scene = GifReader((tmp_path / "scene.gif").read_bytes(), "scene")
    assert scene.local_table_count == 0
    # every stretch but the first (the global table's) writes its palette as the local table of its frames
    stretches_after_the_first = len(_survey(frames).drift_starts)
    assert 1 <= drift.local_table_count and drift.local_table_count >= stretches_after_the_first
    drift_error = _mean_squared_error(tmp_path / "drift.gif", frames)
    assert drift_error < 0.95 * _mean_squared_error(tmp_path / "scene.gif", frames)


def test_a_clip_whose_colours_stay_put_is_the_same_gif_as_with_scene_palettes(tmp_path, photo):
    frames = _still(photo)
    gifsom.encode(frames, tmp_path / "drift.gif", fps=10, palette="drift")
    gifsom.encode(frames, tmp_path / "scene.gif", fps=10, palette="scene")
    assert (tmp_path / "drift.gif").read_bytes() == (tmp_path / "scene.gif").read_bytes()


def test_drifts_too_close_to_keep_give_the_gif_of_one_palette_for_the_clip(tmp_path, photo, monkeypatch):
    frames = _pan(photo)
    monkeypatch.setattr(stretches, "DRIFT_SAMPLES", 10 ** 9)        # no drift keeps enough training pixels
    gifsom.encode(frames, tmp_path / "drift.gif", fps=10, palette="drift")
    gifsom.encode(frames, tmp_path / "global.gif", fps=10, palette="global")
    assert (tmp_path / "drift.gif").read_bytes() == (tmp_path / "global.gif").read_bytes()


def test_the_gif_does_not_depend_on_when_the_worker_learns(tmp_path, photo, monkeypatch):
    frames = _pan(photo)
    gifsom.encode(frames, tmp_path / "a.gif", fps=10, palette="drift")
    monkeypatch.setenv("GIFSOM_THREADS", "1")
    gifsom.encode(frames, tmp_path / "b.gif", fps=10, palette="drift")
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()


def test_a_palette_that_fails_on_the_worker_fails_the_encode_and_leaves_no_gif(tmp_path, photo, monkeypatch):
    learned = []
    learn = gifsom.encoder.learn_from

    def failing_after_the_first(*args, **kwargs):
        learned.append(1)
        if len(learned) > 1:
            raise MemoryError("no room for a palette")
        return learn(*args, **kwargs)

    monkeypatch.setattr(gifsom.encoder, "learn_from", failing_after_the_first)
    with pytest.raises(MemoryError):
        gifsom.encode(_pan(photo), tmp_path / "out.gif", fps=10, palette="drift")
    assert len(learned) >= 2 and not (tmp_path / "out.gif").exists()


def test_drifts_that_leave_too_few_training_pixels_start_no_stretch(photo, monkeypatch):
    frames = _pan(photo)
    survey = _survey(frames)
    assert len(clip_stretches(survey, [None], True)) == len(survey.drift_starts) + 1
    assert len(clip_stretches(survey, [None], False)) == 1
    per_frame = survey.sampler.kept(0, 1)
    for least in (2, DRIFT_FRAMES + 1, len(frames) // 2, len(frames)):
        monkeypatch.setattr(stretches, "DRIFT_SAMPLES", per_frame * least)
        kept = clip_stretches(survey, [None], True)
        assert kept[0].start == 0 and kept[-1].stop == len(frames)
        assert all(earlier.stop == later.start and later.start in survey.drift_starts and later.follows
                   for earlier, later in zip(kept, kept[1:]))
        if len(kept) > 1:           # cut: each stretch learns from the clip's sample of its frames, enough of it
            assert all(np.array_equal(s.sample, survey.sampler.pixels_of(s.start, s.stop)) for s in kept)
            assert all(len(s.sample) >= stretches.DRIFT_SAMPLES for s in kept)
        else:                       # whole: the clip's sample, as one palette for the clip takes
            assert np.array_equal(kept[0].sample, survey.sampler.pixels())
        if least == 2:                                   # room for every drift
            assert [s.start for s in kept[1:]] == survey.drift_starts
    assert len(kept) == 1


def test_a_scene_in_exact_colours_is_not_cut_at_its_drifts(photo):
    frames = _pan(photo)
    survey = _survey(frames)
    exact = np.zeros((10, 3), np.uint8)
    (whole,) = clip_stretches(survey, [exact], True)
    assert (whole.start, whole.stop) == (0, len(frames)) and whole.colours is exact


def _nearest_error(pixels: np.ndarray, palette: np.ndarray) -> float:
    distances = ((pixels[:, None, :].astype(np.float64) - palette[None, :, :]) ** 2).sum(2)
    return float(distances.min(1).mean())


def test_a_palette_moved_from_another_fits_its_own_pixels_better_than_the_one_it_started_from(photo):
    first = photo[:80, :120].reshape(-1, 3)
    second = photo[-80:, -120:].reshape(-1, 3)
    options = PaletteOptions(colors=32, fixed=((255, 0, 255),))
    start = palette_from_pixels(first, options)
    moved = palette_from_pixels(second, options, start)
    assert moved.shape == start.shape and tuple(moved[0]) == (255, 0, 255)
    assert _nearest_error(second, moved) < 0.8 * _nearest_error(second, start)
    # a start of another size (an exact palette) is no start: the palette is learned afresh
    assert np.array_equal(palette_from_pixels(second, options, start[:5]), palette_from_pixels(second, options))


@pytest.mark.parametrize("quality, scope", [(FRAME_PALETTES_FROM, "frame"), (FRAME_PALETTES_FROM - 1, "drift"),
                                            (DRIFT_PALETTES_FROM, "drift"), (DRIFT_PALETTES_FROM - 1, "scene")])
def test_the_quality_knob_follows_drift_from_its_default_up_to_palettes_per_frame(quality, scope):
    assert knobs_for_quality(quality, "noisy").palette == scope
    assert EncodeOptions(quality=quality).palette_scope == scope


def test_the_default_follows_drift_only_in_camera_video_that_mostly_changes(tmp_path, photo):
    frames = _pan(photo)
    gifsom.encode(frames, tmp_path / "default.gif", fps=10, content="noisy")
    gifsom.encode(frames, tmp_path / "drift.gif", fps=10, content="noisy", palette="drift")
    assert (tmp_path / "default.gif").read_bytes() == (tmp_path / "drift.gif").read_bytes()
    assert GifReader((tmp_path / "default.gif").read_bytes(), "default").local_table_count > 0
    # pictures without camera noise keep one palette per scene (a scrolling web page lost to new palettes)
    gifsom.encode(frames, tmp_path / "clean.gif", fps=10, content="clean")
    assert GifReader((tmp_path / "clean.gif").read_bytes(), "clean").local_table_count == 0
    # the same pan as a screen recording would show it: a still picture with a small window that pans
    canvas = np.full((128 * 3, 192 * 3, 3), 200, np.uint8)
    mostly_still = []
    for frame in frames:
        shown = canvas.copy()
        shown[:128, :192] = frame
        mostly_still.append(shown)
    # (with the quality's lossy LZW, a steady camera's frames take palettes of their own: see test_steady)
    gifsom.encode(mostly_still, tmp_path / "still.gif", fps=10, content="noisy", lossy=5)
    assert GifReader((tmp_path / "still.gif").read_bytes(), "still").local_table_count == 0


def test_a_fit_under_a_size_keeps_one_palette_per_scene(tmp_path, photo, monkeypatch):
    """The fit's tries predict the clip from samples at small scales, where drifts fall elsewhere: it keeps
    one palette per scene, and so does the GIF it writes."""
    asked: list[bool] = []
    cut = gifsom.encoder.clip_stretches

    def spying(survey, scene_colours, follow_drift):
        asked.append(follow_drift)
        return cut(survey, scene_colours, follow_drift)

    monkeypatch.setattr(gifsom.encoder, "clip_stretches", spying)
    frames = _pan(photo)
    full = gifsom.encode(frames, tmp_path / "full.gif", fps=10, content="noisy")
    assert asked == [True] and GifReader((tmp_path / "full.gif").read_bytes(), "full").local_table_count > 0
    asked.clear()
    fitted = gifsom.encode(frames, tmp_path / "fit.gif", fps=10, content="noisy", max_size=full.bytes // 2)
    assert fitted.bytes <= full.bytes // 2
    assert True not in asked and GifReader((tmp_path / "fit.gif").read_bytes(), "fit").local_table_count == 0


def test_a_stop_while_the_palettes_are_queued_leaves_no_worker_waiting(monkeypatch):
    """A stop signal is raised on the main thread between any two bytecodes: here, as the second palette is
    queued, when the first queued one already waits for the palette the main thread was about to learn."""
    import threading

    submitted = []

    class Interrupted(stretches.ThreadPoolExecutor):
        def submit(self, *args, **kwargs):
            submitted.append(1)
            if len(submitted) == 2:
                raise KeyboardInterrupt
            return super().submit(*args, **kwargs)

    monkeypatch.setattr(stretches, "ThreadPoolExecutor", Interrupted)
    sample = np.zeros((4, 3), np.uint8)
    three = [stretches.Stretch(0, 8, sample, None), stretches.Stretch(8, 16, sample, None, follows=True),
             stretches.Stretch(16, 24, sample, None, follows=True)]
    with pytest.raises(KeyboardInterrupt):
        stretches.StretchPalettes(three, lambda stretch, start: sample)
    workers = [t for t in threading.enumerate() if t.name.startswith("gifsom-palette")]
    for worker in workers:
        worker.join(timeout=10)
    assert not any(worker.is_alive() for worker in workers)
