"""``cosmot reid bench``."""

from __future__ import annotations

import argparse
from pathlib import Path
import numpy as np
from cosmot.paths import data_dir
from cosmot.sources.reid_crops import bench_frames
from cosmot.cli.reid.common import OSNET
from cosmot.cli.reid.train import int_list
from cosmot.cli.reid.export import load_torch_model


def run(args: argparse.Namespace) -> int:
    import tempfile

    import torch

    from cosmot.appearance.bench import measure, pipeline_rate
    from cosmot.appearance.torch_encoder import TorchEncoder
    from cosmot.appearance.export import export_onnx
    from cosmot.appearance.model import count_macs, count_params
    from cosmot.appearance.onnx_encoder import OnnxEncoder

    torch.set_num_threads(args.threads)
    frames, boxes = bench_frames(args.sequence, 20)
    model = load_torch_model(args.weights)
    hw = tuple(model.config.input_hw)
    macs = count_macs(model, hw)
    if args.device != "cpu":
        from cosmot.appearance.device import resolve_device

        print(f"GPU: {torch.cuda.get_device_name(resolve_device(args.device))}")
    print(f"encoder {args.weights}: {count_params(model) / 1e6:.3f} M parameters, "
          f"{macs / 1e6:.1f} M multiply-adds ({2 * macs / 1e9:.3f} GFLOP) per {hw[0]}x{hw[1]} "
          f"crop; {args.threads} threads; frames of {args.sequence} with its det.txt boxes")
    tmp = Path(tempfile.mkdtemp())
    onnx_path = export_onnx(model, tmp / "cosmot.onnx")
    rows = []
    for b in args.batches:
        enc = TorchEncoder(model, batch_size=b, threads=args.threads)
        x = torch.rand(b, 3, *hw) * 255

        def torch_model(x=x):
            with torch.inference_mode():
                model(x)

        rows.append(("cosmot torch", b, measure(torch_model, b, args.seconds),
                     pipeline_rate(enc.embed, frames, boxes, b, args.seconds)))
        if args.device != "cpu":
            genc = TorchEncoder(model, device=args.device, batch_size=b)
            xg = x.to(genc.device)

            def gpu_model(xg=xg, m=genc.model):
                with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
                    m(xg)
                torch.cuda.synchronize()

            rows.append((f"cosmot torch {args.device} fp16", b,
                         measure(gpu_model, b, args.seconds),
                         pipeline_rate(genc.embed, frames, boxes, b, args.seconds)))
        oenc = OnnxEncoder(onnx_path, threads=args.threads, batch_size=b)
        xo = np.random.default_rng(0).random((b, 3, *hw), dtype=np.float32) * 255
        rows.append(("cosmot onnx", b, measure(lambda xo=xo: oenc.run_model(xo), b,
                                               args.seconds),
                     pipeline_rate(oenc.embed, frames, boxes, b, args.seconds)))
    ext = args.external
    if ext is None and (data_dir() / OSNET).is_file():
        ext = str(data_dir() / OSNET)
    if ext and ext != "none":
        for b in args.batches:
            oenc = OnnxEncoder(ext, threads=args.threads, batch_size=b)
            fb = oenc.fixed_batch or b  # fixed-batch models run one batch of fb at a time
            calls = max(1, b // fb)
            xo = np.random.default_rng(0).random((fb, 3, *oenc.input_hw), dtype=np.float32)

            def ext_model(xo=xo, calls=calls, oenc=oenc):
                for _ in range(calls):
                    oenc.run_model(xo)

            rows.append((Path(ext).stem, b, measure(ext_model, calls * fb, args.seconds),
                         pipeline_rate(oenc.embed, frames, boxes, b, args.seconds)))
    print("| encoder | batch | model only (crops/s) | crop+preprocess+model (crops/s) |")
    print("|---|---:|---:|---:|")
    for name, b, m, p in rows:
        print(f"| {name} | {b} | {m.crops_per_s:.0f} | {p.crops_per_s:.0f} |")
    return 0


def register(sub) -> None:
    p = sub.add_parser("bench", help="encoder throughput on the CPU and GPU (crops/s)",
                       description="Crops per second of the encoder's torch and ONNX paths at "
                                   "several batch sizes, next to an external ONNX embedder "
                                   "(OSNet-x0.25 by default) measured in the same run.")
    p.add_argument("--weights", default="default")
    p.add_argument("--external", help="external ONNX embedder (default: OSNet-x0.25 if "
                                      "found; 'none' to skip)")
    p.add_argument("--batches", type=int_list, default=(1, 16, 64))
    p.add_argument("--sequence", default="MOT16-11", help="frames and det boxes to crop from")
    p.add_argument("--seconds", type=float, default=1.5, help="length of one timed round")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu",
                   help="also measure the torch path on this CUDA device (float16 autocast; "
                        "model only and with cropping on the CPU)")
    p.set_defaults(func=run)
