"""A seeded synthetic street clip with exact ground truth: textured people-like figures walking
across a static textured scene, crossing and occluding each other.

Run ``python -m cosmot.testing.synthetic_video OUT_DIR [--seed 0]`` to write a MOTChallenge-like sequence
folder: ``seqinfo.ini``, ``<name>.mp4`` and ``gt/gt.txt`` (MOT16 layout
``frame,id,left,top,width,height,1,1,visibility``; boxes are the whole figure clipped to the
frame, visibility the fraction of the figure's pixels not hidden by nearer figures; rows of
fully occluded figures are kept, as in MOT16). ``cosmot eval`` scores results against it.

The scene: a ground plane below a horizon with perspective (a figure's height grows linearly with
the distance of its feet below the horizon), buildings above it, Gaussian sensor noise on every
frame. Figures walk along straight lanes at their own speed with a swinging gait; they come in
pairs on nearly the same lane walking towards each other, so that they meet and one passes in
front of the other. The nearer figure (feet lower in the image) is drawn last.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np


@dataclass(frozen=True)
class SceneConfig:
    """Synthetic scene parameters (pixels, frames).

    width, height: frame size. fps: frame rate. frames: clip length. people: number of figures
    (rounded up to pairs). seed: everything random follows from it. horizon: horizon height as a
    fraction of the frame height. person_scale: figure height / distance of the feet below the
    horizon. noise: standard deviation of the per-frame sensor noise (grey levels).
    """

    width: int = 640
    height: int = 360
    fps: float = 25.0
    frames: int = 200
    people: int = 8
    seed: int = 0
    horizon: float = 0.22
    person_scale: float = 0.62
    noise: float = 2.0

    def __post_init__(self) -> None:
        if not (isinstance(self.width, int) and isinstance(self.height, int)
                and self.width >= 64 and self.height >= 64):
            raise ValueError(f"SceneConfig width, height = {self.width!r}, {self.height!r}: "
                             f"need ints >= 64")
        if not (isinstance(self.frames, int) and self.frames >= 1):
            raise ValueError(f"SceneConfig.frames = {self.frames!r}: must be an int >= 1")
        if not (isinstance(self.people, int) and 0 <= self.people <= 100):
            raise ValueError(f"SceneConfig.people = {self.people!r}: must be an int in [0, 100]")
        if not 0.05 <= self.horizon <= 0.6:
            raise ValueError(f"SceneConfig.horizon = {self.horizon!r} is outside [0.05, 0.6]")
        if not 0.1 <= self.person_scale <= 2.0:
            raise ValueError(f"SceneConfig.person_scale = {self.person_scale!r} is outside "
                             f"[0.1, 2]")
        if not self.fps > 0:
            raise ValueError(f"SceneConfig.fps = {self.fps!r}: must be > 0")
        if not 0 <= self.noise <= 50:
            raise ValueError(f"SceneConfig.noise = {self.noise!r} is outside [0, 50]")


@dataclass(frozen=True)
class Walker:
    """One figure: lane (feet y), start x and frame, speed (px/frame, signed), look, gait."""

    track_id: int
    foot_y: float
    x0: float
    start: int
    speed: float
    skin: tuple[int, int, int]
    shirt: tuple[int, int, int]
    shirt2: tuple[int, int, int]
    pattern: int  # 0 plain, 1 stripes, 2 checks
    trousers: tuple[int, int, int]
    stride: float  # radians of gait phase per pixel walked

    def foot_x(self, frame: int) -> float:
        return self.x0 + self.speed * (frame - self.start)


def _color(rng: np.random.Generator, lo: int = 20, hi: int = 235) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(lo, hi, size=3))


def _background(cfg: SceneConfig, rng: np.random.Generator) -> np.ndarray:
    w, h = cfg.width, cfg.height
    hy = int(cfg.horizon * h)
    img = np.zeros((h, w, 3), np.float32)
    sky = np.linspace(200, 150, hy)[:, None, None] * np.array([1.0, 0.95, 0.85])
    img[:hy] = sky
    ground = np.linspace(110, 150, h - hy)[:, None, None] * np.array([0.85, 0.95, 0.9])
    img[hy:] = ground
    # low-frequency texture on the ground and paving lines converging to a vanishing point
    tex = cv2.GaussianBlur(rng.normal(0, 18, (h, w)).astype(np.float32), (0, 0), 3)
    img[hy:] += tex[hy:, :, None]
    vx = w * rng.uniform(0.3, 0.7)
    for x in np.linspace(-w, 2 * w, 14):
        cv2.line(img, (int(vx), hy), (int(x), h), (95, 105, 100), 1, cv2.LINE_AA)
    # buildings on the horizon
    x = 0
    while x < w:
        bw, bh = int(rng.integers(40, 120)), int(rng.integers(hy // 3, hy))
        c = np.array(_color(rng, 60, 200), np.float32)
        cv2.rectangle(img, (x, hy - bh), (x + bw, hy), c.tolist(), cv2.FILLED)
        for wx in range(x + 6, x + bw - 8, 14):  # windows
            for wy in range(hy - bh + 6, hy - 8, 16):
                cv2.rectangle(img, (wx, wy), (wx + 6, wy + 8), (c * 0.5).tolist(), cv2.FILLED)
        x += bw + int(rng.integers(0, 20))
    return np.clip(img, 0, 255).astype(np.uint8)


def _walkers(cfg: SceneConfig, rng: np.random.Generator) -> list[Walker]:
    hy = cfg.horizon * cfg.height
    out = []
    pairs = (cfg.people + 1) // 2
    for p in range(pairs):
        lane = rng.uniform(hy + 0.35 * (cfg.height - hy), cfg.height * 0.97)
        height = cfg.person_scale * (lane - hy)
        # the pair meets near a random x at a random frame
        meet_x = rng.uniform(0.2, 0.8) * cfg.width
        meet_t = rng.uniform(0.2, 0.8) * cfg.frames
        for side in (0, 1):
            if len(out) == cfg.people:
                break
            speed = rng.uniform(0.018, 0.032) * height * (1 if side == 0 else -1)
            foot_y = lane + (0.0 if side == 0 else rng.uniform(-0.06, 0.06) * height)
            x0 = meet_x - speed * meet_t  # position at frame 0
            out.append(Walker(
                track_id=len(out) + 1, foot_y=float(foot_y), x0=float(x0), start=0,
                speed=float(speed), skin=_color(rng, 90, 220), shirt=_color(rng),
                shirt2=_color(rng), pattern=int(rng.integers(0, 3)), trousers=_color(rng, 20, 140),
                stride=float(rng.uniform(0.9, 1.3) * 2 * np.pi / max(height, 1.0))))
    return out


def _figure(walker: Walker, height: float, frame: int
            ) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Render one figure on a local patch: (colour (h, w, 3), mask (h, w) bool, left, top)."""
    h = max(int(round(height)), 8)
    w = max(int(round(0.4 * h)), 4)
    img = np.zeros((h, w, 3), np.uint8)
    mask = np.zeros((h, w), np.uint8)
    phase = walker.stride * abs(walker.speed) * (frame - walker.start)
    swing = np.sin(phase)
    cx = w / 2
    # legs
    leg_w = max(int(0.28 * w), 2)
    for sgn in (-1, 1):
        fx = cx + sgn * 0.22 * w * swing
        hip = (int(cx + sgn * 0.12 * w), int(0.52 * h))
        foot = (int(fx), h - 2)
        for canvas, val in ((img, walker.trousers), (mask, 255)):
            cv2.line(canvas, hip, foot, val, leg_w)
    # torso with its pattern
    t0, t1 = int(0.19 * h), int(0.56 * h)
    tl, tr = int(cx - 0.36 * w), int(cx + 0.36 * w)
    cv2.rectangle(img, (tl, t0), (tr, t1), walker.shirt, cv2.FILLED)
    cv2.rectangle(mask, (tl, t0), (tr, t1), 255, cv2.FILLED)
    period = max(h // 14, 2)
    yy, xx = np.mgrid[t0:t1 + 1, tl:tr + 1]
    if walker.pattern == 1:
        sel = (yy // period) % 2 == 1
    elif walker.pattern == 2:
        sel = ((yy // period) + (xx // period)) % 2 == 1
    else:
        sel = np.zeros(yy.shape, bool)
    sub = img[t0:t1 + 1, tl:tr + 1]
    sub[sel[: sub.shape[0], : sub.shape[1]]] = walker.shirt2
    # arms swinging against the legs
    arm_w = max(int(0.14 * w), 1)
    for sgn in (-1, 1):
        sh = (int(cx + sgn * 0.38 * w), int(0.22 * h))
        hand = (int(cx + sgn * 0.42 * w - sgn * 0.18 * w * swing), int(0.5 * h))
        for canvas, val in ((img, walker.shirt), (mask, 255)):
            cv2.line(canvas, sh, hand, val, arm_w)
    # head
    r = max(int(0.09 * h), 2)
    for canvas, val in ((img, walker.skin), (mask, 255)):
        cv2.circle(canvas, (int(cx), r + 1), r, val, cv2.FILLED)
    left = int(round(walker.foot_x(frame) - w / 2))
    top = int(round(walker.foot_y - h))
    return img, mask > 0, left, top


class SyntheticScene:
    """The clip of a :class:`SceneConfig`, rendered frame by frame (constant memory)."""

    def __init__(self, config: SceneConfig = SceneConfig()):
        self.config = config
        rng = np.random.default_rng(config.seed)
        self.background = _background(config, rng)
        self.walkers = _walkers(config, rng)

    def render(self, frame: int) -> tuple[np.ndarray, np.ndarray]:
        """Frame ``frame`` (1-based): ``(image BGR uint8, gt (G, 6) float64 rows
        id, left, top, width, height, visibility)`` with boxes clipped to the frame."""
        cfg = self.config
        img = self.background.copy()
        labels = np.zeros((cfg.height, cfg.width), np.int32)
        hy = cfg.horizon * cfg.height
        placed = []
        for wk in sorted(self.walkers, key=lambda w: w.foot_y):  # far first
            height = cfg.person_scale * (wk.foot_y - hy)
            patch, mask, left, top = _figure(wk, height, frame)
            ph, pw = mask.shape
            x0, y0 = max(left, 0), max(top, 0)
            x1, y1 = min(left + pw, cfg.width), min(top + ph, cfg.height)
            if x1 <= x0 or y1 <= y0:
                continue
            m = mask[y0 - top:y1 - top, x0 - left:x1 - left]
            img[y0:y1, x0:x1][m] = patch[y0 - top:y1 - top, x0 - left:x1 - left][m]
            labels[y0:y1, x0:x1][m] = wk.track_id
            placed.append((wk.track_id, left, top, pw, ph, int(mask.sum()), x0, y0, x1, y1))
        rows = []
        for tid, left, top, pw, ph, area, x0, y0, x1, y1 in placed:
            if (x1 - x0) * (y1 - y0) < 0.25 * pw * ph:  # mostly outside the frame
                continue
            vis = float((labels[y0:y1, x0:x1] == tid).sum()) / max(area, 1)
            rows.append((tid, x0, y0, x1 - x0, y1 - y0, round(vis, 3)))
        if cfg.noise > 0:
            noise = np.random.default_rng((cfg.seed, frame)).normal(0, cfg.noise, img.shape)
            img = np.clip(img + noise, 0, 255).astype(np.uint8)
        gt = np.asarray(rows, np.float64).reshape(-1, 6)
        return img, gt[np.argsort(gt[:, 0])] if len(gt) else gt

    def frames(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Yield ``(frame_number, image, gt)`` for frames 1 .. ``config.frames``."""
        for k in range(1, self.config.frames + 1):
            img, gt = self.render(k)
            yield k, img, gt


def write_sequence(out_dir: str | os.PathLike, config: SceneConfig = SceneConfig(),
                   name: str | None = None, video_ext: str = ".mp4") -> Path:
    """Write ``out_dir`` as a sequence folder (seqinfo.ini, video, gt/gt.txt); returns it."""
    from cosmot.writers.video import VideoFileWriter

    out = Path(out_dir)
    name = name or out.name
    (out / "gt").mkdir(parents=True, exist_ok=True)
    scene = SyntheticScene(config)
    with VideoFileWriter(out / f"{name}{video_ext}", config.fps) as video, \
            open(out / "gt" / "gt.txt", "w") as gt_file:
        for k, img, gt in scene.frames():
            video.write(img)
            for tid, x, y, w, h, vis in gt:
                gt_file.write(f"{k},{int(tid)},{x:.0f},{y:.0f},{w:.0f},{h:.0f},1,1,{vis:.3f}\n")
    (out / "seqinfo.ini").write_text(
        f"[Sequence]\nname={name}\nimDir=img1\nframeRate={config.fps:g}\n"
        f"seqLength={config.frames}\nimWidth={config.width}\nimHeight={config.height}\n"
        f"imExt=.jpg\n")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cosmot.testing.synthetic_video", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", metavar="OUT_DIR", help="sequence folder to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frames", type=int, default=SceneConfig.frames)
    p.add_argument("--people", type=int, default=SceneConfig.people)
    p.add_argument("--size", default=f"{SceneConfig.width}x{SceneConfig.height}",
                   help="WIDTHxHEIGHT")
    p.add_argument("--ext", default=".mp4", help="video container (.mp4 or .avi)")
    args = p.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    cfg = SceneConfig(width=w, height=h, frames=args.frames, people=args.people, seed=args.seed)
    out = write_sequence(args.out, cfg, video_ext=args.ext)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
