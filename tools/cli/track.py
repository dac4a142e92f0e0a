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
from pathlib import Path

from tqdm import tqdm

from cosmot.tracker import Tracker

from cosmot.pipeline.camera_motion import CameraMotionEstimator
from cosmot.cli.options import add_cmc_option, add_config_options, config_from_args, resolve_cmc
from cosmot.detectors import BUILT_IN, DEFAULT_DETECTOR, create_detector
from cosmot.cli.mot import load_encoder_arg
from cosmot.sources.inputs import open_input
from cosmot.pipeline.stream import StreamTimes, TrackOutputs, track_stream


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("track", help="detect and track people in a video, image folder or camera",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="INPUT",
                   help="video file, image folder, MOTChallenge sequence folder (seqinfo.ini), "
                        "camera index (0, 1, ...) or stream URL (rtsp://...)")
    p.add_argument("--detector", default=None, metavar="NAME|PATH",
                   help=f"{', '.join(BUILT_IN)} (default: auto = {DEFAULT_DETECTOR}, the shipped "
                        f"YOLOX-Nano), or a YOLOX or YOLOv5/v8-style .onnx model")
    p.add_argument("--detector-size", type=int, default=None, metavar="N",
                   help="YOLOX input long side in pixels, a multiple of 32 (default 416; 640 "
                        "with --det-set min_score=0.6 finds more small people and tracks "
                        "better, at about twice the detector time)")
    p.add_argument("--classes", default=None, metavar="LIST",
                   help="classes to track with a learned detector: COCO names or ids, "
                        "comma-separated (default person; e.g. person,car or 0,2; all)")
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
    p.set_defaults(func=run)


def _options(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--det-set {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _learned_detector_options(name: str, size: int | None, classes: str | None
                              ) -> dict[str, str]:
    """``--detector-size`` and ``--classes`` as config fields of the chosen detector."""
    learned = name in ("auto", "yolox") or name.lower().endswith(".onnx")
    if not learned and (size is not None or classes is not None):
        raise ValueError(f"--detector-size and --classes apply to a learned detector (auto, "
                         f"yolox or an .onnx model), not to --detector {name} (people only)")
    out = {}
    if size is not None:
        if size < 32 or size % 32:
            raise ValueError(f"--detector-size {size}: must be a multiple of 32 (e.g. 416, 640)")
        out["size"] = str(size)
    if classes is not None:
        from cosmot.detectors.yolox import parse_classes

        ids = parse_classes(classes)
        out["classes"] = ",".join(str(k) for k in ids)
    return out


def run(args: argparse.Namespace) -> int:
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
        if args.detector_size is not None or args.classes is not None:
            raise ValueError("--detector-size and --classes apply to a detector, not to "
                             "--detections")
        if args.det_options:
            raise ValueError("--det-set applies to a detector, not to --detections")
        if not Path(args.detections).is_file():
            raise FileNotFoundError(f"--detections {args.detections}: no such file")
        detector = create_detector(Path(args.detections), min_score=args.min_score)
        det_name = f"detections {args.detections}"
    else:
        name = args.detector or "auto"
        options = _options(args.det_options)
        options.update(_learned_detector_options(name, args.detector_size, args.classes))
        detector = create_detector(name, options)
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
    # class names in the JSON lines when the detector has them; on the video when the run
    # tracks more than one class
    class_names = getattr(detector, "class_names", None)
    wanted = getattr(getattr(detector, "config", None), "classes", (0,))
    several = bool(class_names) and len(wanted) != 1
    times = StreamTimes()
    t0 = time.perf_counter()
    steps = track_stream(source.frames(), detector, tracker, encoder, min_score=args.min_score,
                         max_frames=args.max_frames, times=times, camera_motion=cmc)
    try:
        with TrackOutputs(args.out_video, args.out_mot, args.out_json, fps=source.fps,
                          trails=args.trails, output_box=args.output_box,
                          class_names=class_names, draw_class_names=several) as outputs, \
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
