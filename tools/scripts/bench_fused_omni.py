"""Is the fused export of an omni-scale student faster in ONNX Runtime than the plain one?

    python tools/scripts/bench_fused_omni.py runs/enc/foldB-omni/last.pt --rounds 3

Exports the same weights twice (``export_onnx(..., fuse=False)`` and ``fuse=True``: the four
streams of every omni block as one convolution per depth level, ``appearance/model.py``,
``FusedOmniStreams``), checks that both give the torch embeddings, then times both with the
tracker's ``OnnxEncoder`` in the same process, alternating plain / fused in every round so that
load drift falls on both: crops per second with cropping (frames of MOT16-11 and its det.txt
boxes, ``cosmot reid bench``'s measure) at each batch size, and the fused/plain ratio per round;
OSNet-x0.25 (``--external``) is timed in the same rounds for the speed goal's ratio.
Prints node counts, a table and the median ratio. On the fold-B omni128 student (2-core CPU,
2026-12-08) the fused form ran 1.15x / 1.07x / 0.83x the plain one at batch 1 / 16 / 64, so
``export_onnx``'s ``fuse`` stays off (appearance/README.md, "The omni size by the pipeline").
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights", help="an omni-scale checkpoint (.pt)")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16, 64])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sequence", default="MOT16-11")
    ap.add_argument("--external", default=None,
                    help="also time this ONNX embedder in every round (default: OSNet-x0.25 if "
                         "found; 'none' to skip) and print each form's ratio to it")
    args = ap.parse_args(argv)

    import numpy as np
    import onnx
    import torch

    from cosmot.appearance.bench import pipeline_rate
    from cosmot.appearance.export import export_onnx, verify_onnx
    from cosmot.appearance.onnx_encoder import OnnxEncoder
    from cosmot.appearance.checkpoint import load_checkpoint
    from cosmot.paths import data_dir
    from cosmot.sources.reid_crops import bench_frames

    torch.set_num_threads(args.threads)
    model = load_checkpoint(args.weights)[0].eval()
    if model.config.block != "omni":
        ap.error(f"{args.weights}: block {model.config.block!r}; fusing applies to 'omni' "
                 "networks only")
    frames, boxes = bench_frames(args.sequence, 20)
    tmp = Path(tempfile.mkdtemp())
    h, w = model.config.input_hw
    crops = np.random.default_rng(0).integers(0, 256, (64, h, w, 3), dtype=np.uint8)
    paths = {}
    for name, fuse in (("plain", False), ("fused", True)):
        paths[name] = export_onnx(model, tmp / f"{name}.onnx", fuse=fuse)
        check = verify_onnx(model, paths[name], crops)
        nodes = len(onnx.load(str(paths[name])).graph.node)
        print(f"{name}: {nodes} ONNX nodes, {os.path.getsize(paths[name]) / 1e6:.2f} MB, "
              f"against torch on {check.n} crops: min cosine {check.min_cosine:.6f}")
    ext = args.external
    osnet = data_dir() / "models" / "osnet_x0_25_msmt17.onnx"
    if ext is None and osnet.is_file():
        ext = str(osnet)
    names = ["plain", "fused"]
    if ext and ext != "none":
        paths["external"] = Path(ext)
        names.append("external")
        print(f"external: {ext}")
    print(f"{args.weights}; {args.threads} threads; load average {os.getloadavg()[0]:.2f} "
          "at start")
    rates: dict[tuple[str, int], list[float]] = {}
    for r in range(args.rounds):
        for b in args.batches:
            for name in names:
                enc = OnnxEncoder(paths[name], threads=args.threads, batch_size=b)
                rate = pipeline_rate(enc.embed, frames, boxes, b, args.seconds)
                rates.setdefault((name, b), []).append(rate.crops_per_s)
        print(f"round {r + 1} done, load average {os.getloadavg()[0]:.2f}")
    print("| batch | form | crops/s with cropping, per round | / plain per round | median "
          "/ plain | median / external |")
    print("|---:|---|---|---|---:|---:|")
    for b in args.batches:
        p = rates[("plain", b)]
        for name in names:
            r = rates[(name, b)]
            ratios = [x / y for x, y in zip(r, p)]
            ext_ratio = ""
            if "external" in names:
                vs_ext = [x / y for x, y in zip(r, rates[("external", b)])]
                ext_ratio = f"{statistics.median(vs_ext):.2f}"
            print(f"| {b} | {name} | {' / '.join(f'{x:.0f}' for x in r)} | "
                  f"{' / '.join(f'{x:.2f}' for x in ratios)} | "
                  f"{statistics.median(ratios):.2f} | {ext_ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
