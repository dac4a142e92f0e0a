"""``cosmot track``: detect and track people in a video file, an image folder or a camera.

Frames are streamed one at a time (constant memory whatever the length). Outputs are written as
frames finish: the annotated video is finalised and the MOT/JSON files are flushed even when the
run is interrupted (Ctrl-C) or fails, so everything done so far is kept.

Examples::

    cosmot track clip.mp4 --out-video tracked.mp4 --out-mot tracked.txt --trails 30
    cosmot track SEQ/ --detections SEQ/det/det.txt --out-mot results/SEQ.txt --encoder none
    cosmot track 0 --detector bgsub --out-video camera.avi       # camera index 0
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from tqdm import tqdm

from cosmot.tracker import Tracker

from cosmot.cli.batch import add_batch_options, is_track_batch, run_track
from cosmot.pipeline.camera_motion import CameraMotionEstimator
from cosmot.pipeline.prefetch import prefetch
from cosmot.cli.options import add_cmc_option, add_config_options, config_from_args, resolve_cmc
from cosmot.detectors import BUILT_IN, DEFAULT_DETECTOR, create_detector
from cosmot.sources.frames import IMAGE_EXTENSIONS, iter_image_folder, iter_video, list_images, video_properties
from cosmot.cli.mot import load_encoder_arg
from cosmot.sources.motchallenge import VIDEO_EXTENSIONS, Sequence
from cosmot.pipeline.stream import StreamTimes, TrackOutputs, track_stream


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("track", help="detect and track people in a video, image folder or camera",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="INPUT", nargs="+",
                   help="video file, image folder, MOTChallenge sequence folder (seqinfo.ini), "
                        "camera index (0, 1, ...) or stream URL (rtsp://...); several inputs, "
                        "folders of them, globs or a .txt list with --out-dir")
    p.add_argument("--detector", default=None, metavar="NAME|PATH",
                   help=f"{', '.join(BUILT_IN)} (default: auto = {DEFAULT_DETECTOR}), or a "
                        f"YOLOv5/v8-style .onnx model")
    p.add_argument("--detections", default=None, metavar="FILE",
                   help="MOTChallenge det.txt to use instead of a detector (frame k of the input "
                        "= frame k of the file)")
    p.add_argument("--det-set", dest="det_options", action="append", default=[],
                   metavar="KEY=VALUE",
                   help="override a detector setting, e.g. --det-set min_person_height=40 "
                        "(fields of HOGConfig, BackgroundConfig or YOLOConfig; repeatable)")
    p.add_argument("--min-score", type=float, default=None, metavar="S",
                   help="drop detections scoring below S before tracking")
    p.add_argument("--out-video", default=None, metavar="FILE",
                   help="annotated video (.mp4, .avi, .mkv, ...)")
    p.add_argument("--out-mot", default=None, metavar="FILE",
                   help="MOTChallenge results (name it <sequence>.txt for cosmot eval)")
    p.add_argument("--out-json", default=None, metavar="FILE", help="JSON lines, one per frame")
    p.add_argument("--trails", type=int, default=0, metavar="N",
                   help="draw each track's last N positions on the video (default 0: none)")
    p.add_argument("--output-box", choices=["kalman", "detection"], default="kalman",
                   help="write the Kalman-filtered box (default) or the matched detection's box")
    p.add_argument("--encoder", default="default",
                   help="appearance encoder: 'default', a name/path for appearance.load_encoder, "
                        "or 'none' for motion only")
    p.add_argument("--device", default="cpu", help="encoder device (cpu or cuda)")
    add_cmc_option(p)
    p.add_argument("--max-frames", type=int, default=None, metavar="N",
                   help="stop after N frames")
    p.add_argument("--fps", type=float, default=None,
                   help="frame rate of the input, when its header is wrong or missing")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_config_options(p)
    add_batch_options(p, track=True)
    p.set_defaults(func=run)


#: File extensions taken as videos (OpenCV's FFmpeg would also "play" a text file as frames
#: of rendered text, so other files are refused). Stream URLs (``rtsp://...``) pass as they are.
VIDEO_FILE_EXTENSIONS = tuple(sorted(set(VIDEO_EXTENSIONS) | {
    ".wmv", ".flv", ".ts", ".mts", ".m2ts", ".3gp", ".ogv", ".asf", ".mjpeg", ".mjpg", ".h264",
    ".h265", ".hevc", ".y4m", ".gif"}))


@dataclass(frozen=True)
class FrameSource:
    """Resolved INPUT: a description, the frame iterator factory, fps and length (-1 unknown)."""

    description: str
    kind: str  # "video", "images", "sequence", "camera"
    path: str | int
    fps: float
    length: int

    def frames(self) -> Iterator[tuple[int, np.ndarray]]:
        if self.kind == "sequence":
            return Sequence(self.path).frames()
        if self.kind == "images":
            return iter_image_folder(self.path)
        return iter_video(self.path)


def open_input(text: str, fps: float | None = None) -> FrameSource:
    """Interpret INPUT; ``FileNotFoundError``/``ValueError`` say what was expected."""
    path = Path(text)
    if "://" in text:
        vfps, n, w, h = video_properties(text)
        return FrameSource(f"stream {text} ({w}x{h})", "video", text, fps or vfps or 25.0, n)
    if not path.exists() and text.isdigit():
        _, _, w, h = video_properties(int(text))
        return FrameSource(f"camera {text} ({w}x{h})", "camera", int(text), fps or 30.0, -1)
    if not path.exists():
        raise FileNotFoundError(f"INPUT {text}: no such file or folder (expected a video file, "
                                f"an image folder, a sequence folder with seqinfo.ini, a camera "
                                f"index or a stream URL)")
    if path.is_dir():
        if (path / "seqinfo.ini").is_file():
            seq = Sequence(path)
            if seq.image_dir is None and seq.video is None:
                raise FileNotFoundError(f"INPUT {text}: sequence folder without {seq.info.im_dir}/ "
                                        f"or a video file")
            return FrameSource(f"sequence {seq.name}", "sequence", str(path),
                               fps or seq.info.fps, seq.info.length or -1)
        n = len(list_images(path))  # raises when the folder has no images
        return FrameSource(f"image folder {path} ({n} images)", "images", str(path),
                           fps or 25.0, n)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        raise ValueError(f"INPUT {text}: a single image; give the folder of images instead")
    if path.suffix.lower() not in VIDEO_FILE_EXTENSIONS:
        raise ValueError(f"INPUT {text}: not a video file (extensions "
                         f"{', '.join(VIDEO_FILE_EXTENSIONS)}), image folder or sequence folder")
    vfps, n, w, h = video_properties(path)  # raises OSError when OpenCV cannot open it
    return FrameSource(f"video {path.name} ({w}x{h}, {vfps:g} fps)", "video", str(path),
                       fps or vfps or 25.0, n)


def _options(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--det-set {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def run(args: argparse.Namespace) -> int:
    if is_track_batch(args):
        return run_track(args)
    args.input = args.input[0]
    if args.detector is not None and args.detections is not None:
        raise ValueError("give --detector or --detections, not both")
    if args.trails < 0:
        raise ValueError(f"--trails {args.trails}: must be >= 0")
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames {args.max_frames}: must be >= 1")
    if not (args.out_video or args.out_mot or args.out_json):
        print("cosmot track: no --out-video, --out-mot or --out-json given; tracking without "
              "saving anything", file=sys.stderr)
    source = open_input(args.input, args.fps)
    if args.detections is not None:
        if args.det_options:
            raise ValueError("--det-set applies to a detector, not to --detections")
        if not Path(args.detections).is_file():
            raise FileNotFoundError(f"--detections {args.detections}: no such file")
        detector = create_detector(Path(args.detections), min_score=args.min_score)
        det_name = f"detections {args.detections}"
    else:
        name = args.detector or "auto"
        detector = create_detector(name, _options(args.det_options))
        det_name = f"detector {name}" + (f" ({DEFAULT_DETECTOR})" if name == "auto" else "")
    encoder = load_encoder_arg(args.encoder, args.device)
    config = config_from_args(args, fps=source.fps)
    tracker = Tracker(config)

    total = source.length if source.length > 0 else None
    if args.max_frames is not None:
        total = min(total, args.max_frames) if total else args.max_frames
    cmc_method = resolve_cmc(args.cmc, encoder)
    print(f"cosmot track: {source.description}, {det_name}, encoder {args.encoder}, "
          f"camera-motion compensation {cmc_method}", file=sys.stderr)
    cmc = CameraMotionEstimator(cmc_method) if cmc_method != "none" else None
    times = StreamTimes()
    args.stream_times = times  # read by the batch runner (cosmot.cli.batch)
    t0 = time.perf_counter()
    steps = track_stream(prefetch(source.frames(), args.prefetch), detector, tracker, encoder,
                         min_score=args.min_score, max_frames=args.max_frames, times=times,
                         camera_motion=cmc)
    try:
        with TrackOutputs(args.out_video, args.out_mot, args.out_json, fps=source.fps,
                          trails=args.trails, output_box=args.output_box) as outputs, \
                tqdm(total=total, unit="frame", disable=args.no_progress,
                     dynamic_ncols=True) as bar:
            for step in steps:
                outputs.write(step)
                bar.update(1)
                bar.set_postfix(tracks=len(step.tracks), refresh=False)
    finally:
        steps.close()  # releases the video capture now, also on Ctrl-C
        wall = time.perf_counter() - t0
        n = times.frames
        fps = n / wall if wall > 0 else math.inf
        print(f"cosmot track: {n} frames in {wall:.1f} s ({fps:.2f} frames/s; detector "
              f"{times.detect:.1f} s, encoder {times.embed:.1f} s, tracker {times.track:.2f} s), "
              f"{times.max_id} ids", file=sys.stderr)
        for label, path in (("video", args.out_video), ("MOT", args.out_mot),
                            ("JSON", args.out_json)):
            if path:
                print(f"  {label}: {os.fspath(path)}", file=sys.stderr)
    return 0
