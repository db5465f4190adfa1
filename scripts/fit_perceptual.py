"""Fit the weights of gifsom's perceptual score (``gifsom/perceptual.py``) against SSIMULACRA 2.

For each bench clip, GIFs are made with settings that fail in different ways
(few colours band, lossy LZW smears, dither adds noise, scaling blurs) and with
gifski and ffmpeg. Every 10th frame of each is scored with SSIMULACRA 2 and its
error features are measured; the weights are the non-negative least-squares fit
of ((100 - SSIMULACRA 2) / 10) ** (1 / SCORE_EXPONENT) on the features (SSIMULACRA 2
ends with that power of its own weighted errors). The script prints the weights, the
fit's error, and how well the score ranks each clip's GIFs (Spearman).

    pip install -e ".[bench]"
    python scripts/fit_perceptual.py --gifski PATH [--clips pan photos ...]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

from gifsom import perceptual  # noqa: E402

GIFSOM_SETTINGS = [[], ["--colors", "16"], ["--colors", "48"], ["--lossy", "20"], ["--lossy", "60"],
                   ["--dither", "floyd-steinberg"], ["--dither", "floyd-steinberg", "--colors", "32"],
                   ["--dither", "adaptive", "--lossy", "10"], ["--scale", "0.5"], ["--scale", "0.75", "--colors", "64"]]
GIFSKI_QUALITIES = [40, 70, 90]
#: Frames scored per GIF: every this many, at most :data:`FRAMES_PER_GIF`.
STEP, FRAMES_PER_GIF = 10, 6


def gifs_of(clip: bench.Clip, work: Path, gifski: str | None) -> list[tuple[str, Path]]:
    made = []
    height, width = clip.frames[0].shape[:2]
    for number, setting in enumerate(GIFSOM_SETTINGS):
        out = work / f"gifsom{number}.gif"
        args = list(setting)
        if "--scale" in args:
            share = float(args[args.index("--scale") + 1])
            args[args.index("--scale"):args.index("--scale") + 2] = ["--width", str(max(16, round(width * share)))]
        subprocess.run([sys.executable, "-m", "gifsom", "convert", clip.gifsom_input, str(out), "-q", *args],
                       check=True)
        made.append(("gifsom " + " ".join(setting), out))
    if gifski:
        pngs = sorted(str(p) for p in clip.png_dir.glob("*.png"))
        for q in GIFSKI_QUALITIES:
            out = work / f"gifski{q}.gif"
            subprocess.run([gifski, "-q", "--quality", str(q), "-W", "4000", "-H", "4000", "--fps", str(clip.fps),
                            "-o", str(out), *pngs], check=True)
            made.append((f"gifski q{q}", out))
    out = work / "ffmpeg.gif"
    subprocess.run([bench.ffmpeg(), "-v", "error", "-y", *clip.ffmpeg_input, "-vf",
                    "split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=sierra2_4a", str(out)],
                   check=True)
    made.append(("ffmpeg two-pass", out))
    return made


def measure(clips: list[bench.Clip], work: Path, gifski: str | None):
    from ssimulacra2 import compute_ssimulacra2

    rows = []          # (clip, gif, frame, ssimulacra2, features)
    for clip in clips:
        for label, path in gifs_of(clip, work, gifski):
            shown = bench.shown_frames(path, clip)
            for number in list(range(0, len(clip.frames), STEP))[:FRAMES_PER_GIF]:
                Image.fromarray(clip.frames[number]).save(work / "a.png", compress_level=1)
                Image.fromarray(shown[number]).save(work / "b.png", compress_level=1)
                score = compute_ssimulacra2(str(work / "a.png"), str(work / "b.png"))
                rows.append((clip.name.split()[0], label, number, score,
                             perceptual.error_features(clip.frames[number], shown[number], every_scale=True)))
            print(f"{clip.name.split()[0]:8s} {label:40s} measured", flush=True)
    return rows


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gifski", default=shutil.which("gifski"))
    parser.add_argument("--clips", nargs="*", default=["pan", "photos", "cartoon", "page", "small", "screen"])
    parser.add_argument("--save", type=Path, default=None, help="keep the measurements here (.npz)")
    args = parser.parse_args()
    from scipy.optimize import nnls

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = measure(bench.load_clips(work, args.clips), work, args.gifski)
    features = np.array([r[4] for r in rows])
    target = (np.maximum(np.array([100 - r[3] for r in rows]), 0) / 10) ** (1 / perceptual.SCORE_EXPONENT)
    scores = np.array([r[3] for r in rows])
    if args.save:
        np.savez(args.save, features=features, scores=scores, clip=[r[0] for r in rows], gif=[r[1] for r in rows])
    weights, _ = nnls(features, target)
    predicted = 100 - 10 * np.maximum(features @ weights, 0) ** perceptual.SCORE_EXPONENT
    print(f"\nfitted on {len(rows)} frames: mean absolute error {np.mean(np.abs(predicted - scores)):.2f} "
          "SSIMULACRA 2 points")
    per_scale = 3 * len(perceptual.KINDS)
    print(f"WEIGHTS (by scale; in each, by channel L a b, then by kind {', '.join(perceptual.KINDS)}):")
    for scale in range(perceptual.SCALES):
        print("    " + ", ".join(f"{w:.4g}" for w in weights[scale * per_scale:(scale + 1) * per_scale]) + ",")
    print("\nper clip: Spearman rank correlation of the score with SSIMULACRA 2 over its GIFs (1 = same order)")
    clips = sorted({r[0] for r in rows})
    for name in clips:
        gifs = sorted({r[1] for r in rows if r[0] == name})
        truth = [np.mean([t for r, t in zip(rows, scores) if r[0] == name and r[1] == g]) for g in gifs]
        ours = [np.mean([p for r, p in zip(rows, predicted) if r[0] == name and r[1] == g]) for g in gifs]
        print(f"{name:8s} {spearman(np.array(truth), np.array(ours)):.3f} over {len(gifs)} GIFs")


if __name__ == "__main__":
    main()
