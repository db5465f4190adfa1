"""The matplotlib writer and the imageio plugin, with the real libraries."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import gifsom
from gifsom.errors import OptionError

from .conftest import decode_gif, decode_gif_rgba, psnr

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import imageio.v3 as iio  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import animation  # noqa: E402

from gifsom.matplotlib import GifWriter  # noqa: E402


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def sine_animation(frames: int = 8, transparent_face: bool = False):
    """A small line-and-colour-map animation; returns it with the frames matplotlib itself draws (RGB)."""
    fig, ax = plt.subplots(figsize=(2.0, 1.5), dpi=50)
    if transparent_face:
        fig.patch.set_alpha(0.0)
        ax.patch.set_alpha(0.0)
    x = np.linspace(0, 2 * np.pi, 60)
    (line,) = ax.plot(x, np.sin(x), color="tab:red", linewidth=2)
    image = ax.imshow(np.zeros((4, 6)), extent=(0, 6.3, -1, 1), cmap="viridis", vmin=0, vmax=1, aspect="auto")

    def draw(i):
        line.set_ydata(np.sin(x + i / 2))
        image.set_data(np.full((4, 6), i / frames))
        return line, image

    expected = []
    for i in range(frames):
        draw(i)
        fig.canvas.draw()
        expected.append(np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy())
    anim = animation.FuncAnimation(fig, draw, frames=frames, blit=False)
    return fig, anim, expected


def test_writer_is_registered_whichever_is_imported_first():
    for order in ("import gifsom; import matplotlib.animation as a", "import matplotlib.animation as a; import gifsom"):
        result = run_python(f"{order}; print(a.writers.is_available('gifsom'), a.writers['gifsom'].__module__)")
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["True", "gifsom.matplotlib"]


def test_anim_save_by_name_matches_what_matplotlib_drew(tmp_path):
    fig, anim, expected = sine_animation()
    calls = []
    out = tmp_path / "sine.gif"
    anim.save(out, writer="gifsom", fps=20, progress_callback=lambda i, n: calls.append((i, n)))
    plt.close(fig)
    frames, durations = decode_gif(out)
    assert len(frames) == len(expected)
    assert durations == [50] * len(expected)
    assert calls == [(i, len(expected)) for i in range(len(expected))]
    for shown, drawn in zip(frames, expected):
        assert shown.shape == drawn.shape == (75, 100, 3)
        assert psnr(shown, drawn) > 35


def test_writer_instance_options_and_dpi(tmp_path):
    fig, anim, _ = sine_animation(frames=4)
    out = tmp_path / "small.gif"
    anim.save(out, writer=GifWriter(fps=10, colors=8, dither="bayer4", metadata={"title": "sine"}), dpi=80)
    plt.close(fig)
    with Image.open(out) as image:
        assert image.size == (160, 120)
        assert image.info["comment"] == b"sine"
        assert image.info["duration"] == 100
        for n in range(image.n_frames):     # the colour map recolours every frame: a palette each
            image.seek(n)
            assert len(np.unique(np.asarray(image.convert("RGB")).reshape(-1, 3), axis=0)) <= 8


def test_transparent_figure_stays_transparent(tmp_path):
    fig, anim, _ = sine_animation(frames=3, transparent_face=True)
    out = tmp_path / "clear.gif"
    anim.save(out, writer="gifsom", fps=10, savefig_kwargs={"transparent": True})
    plt.close(fig)
    for frame in decode_gif_rgba(out):
        assert frame[0, 0, 3] == 0                        # the figure's corner: background
        assert (frame[:, :, 3] == 255).sum() > 500        # the axes' content is drawn


def test_bad_options_fail_before_drawing_and_failures_write_nothing(tmp_path):
    with pytest.raises(OptionError, match="colors"):
        GifWriter(fps=10, colors=300)
    fig, anim, _ = sine_animation(frames=3)
    out = tmp_path / "kept.gif"
    out.write_bytes(b"an older file")

    def fail(i):
        raise RuntimeError("drawing failed")

    broken = animation.FuncAnimation(fig, fail, frames=3)
    with pytest.raises(RuntimeError, match="drawing failed"):
        broken.save(out, writer="gifsom", fps=10)
    assert out.read_bytes() == b"an older file"
    with pytest.raises(TypeError, match="dpi"):
        anim.save(tmp_path / "x.gif", writer="gifsom", fps=10, savefig_kwargs={"dpi": 10})
    plt.close(fig)


def photo_frames(count: int = 6) -> np.ndarray:
    rng = np.random.default_rng(3)
    base = rng.integers(0, 256, (12, 16, 3), np.uint8).repeat(4, 0).repeat(4, 1)
    return np.stack([np.roll(base, 4 * i, axis=1) for i in range(count)])


def test_imageio_imwrite_with_options(tmp_path):
    frames = photo_frames()
    out = tmp_path / "clip.gif"
    assert iio.imwrite(out, frames, plugin="gifsom", fps=15, colors=64) is None
    shown, durations = decode_gif(out)
    assert len(shown) == len(frames)
    assert sum(durations) == 400                      # 6 frames at 15 fps: 7, 7, 6, 7, 7, 6 cs
    assert all(psnr(a, b) > 25 for a, b in zip(shown, frames))


def test_imageio_streaming_bytes_and_reading(tmp_path):
    frames = photo_frames()
    out = tmp_path / "stream.gif"
    with iio.imopen(out, "w", plugin="gifsom") as file:
        for i, frame in enumerate(frames):
            file.write(frame, duration=30 if i else 200, lossy=0)
    _, durations = decode_gif(out)
    assert durations == [200, 30, 30, 30, 30, 30]
    data = iio.imwrite("<bytes>", frames, extension=".gif", plugin="gifsom", fps=10)
    assert data[:6] == b"GIF89a"
    back = iio.imread(out, plugin="gifsom")
    assert back.shape == frames.shape
    assert iio.imread(data, plugin="gifsom").shape == frames.shape
    assert np.array_equal(iio.imread(out, plugin="gifsom", index=2), back[2])


def test_imageio_errors_and_other_plugins_untouched(tmp_path):
    frames = photo_frames(2)
    with pytest.raises(OptionError, match="unknown option 'quantizer'"):
        iio.imwrite(tmp_path / "a.gif", frames, plugin="gifsom", quantizer="x")
    with pytest.raises(OptionError, match="fps or duration"):
        iio.imwrite(tmp_path / "a.gif", frames, plugin="gifsom", fps=10, duration=100)
    with pytest.raises(IOError):
        iio.imwrite(tmp_path / "a.png", frames[0], plugin="gifsom")
    assert not (tmp_path / "a.gif").exists()
    # imageio's own plugins still read and write, and .gif still goes to its default
    iio.imwrite(tmp_path / "b.png", frames[0])
    assert np.array_equal(iio.imread(tmp_path / "b.png"), frames[0])
    iio.imwrite(tmp_path / "c.gif", frames)
    from imageio.config import extension_list
    gif = next(e for e in extension_list if e.extension == ".gif")
    assert "gifsom" not in gif.priority


def test_missing_matplotlib_names_the_extra():
    result = run_python("import sys; sys.modules['matplotlib'] = None\n"
                        "try:\n    import gifsom.matplotlib\nexcept ImportError as e:\n    print(e)")
    assert 'pip install "gifsom[matplotlib]"' in result.stdout


def test_import_gifsom_does_not_import_matplotlib_or_imageio():
    result = run_python("import sys, gifsom; print(sorted(m for m in ('matplotlib', 'imageio') if m in sys.modules))")
    assert result.stdout.strip() == "[]"
