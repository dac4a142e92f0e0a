"""Cut a short sample out of a MOTChallenge sequence: frames FIRST..LAST as a video file, with
gt/gt.txt and every <det>/det.txt cut to match (frame numbers renumbered from 1).

``python tools/scripts/make_sample_clip.py SEQ_DIR OUT_DIR --first 1 --last 120`` writes a sequence
folder that ``cosmot track`` and ``cosmot eval`` read like the original.
"""

from __future__ import annotations

import argparse
import configparser
from pathlib import Path

from cosmot.sources.motchallenge import Sequence
from cosmot.writers.video import VideoFileWriter


def cut_rows(src: Path, dst: Path, first: int, last: int) -> int:
    """Copy the rows of frames first..last of a MOT text file, renumbered; returns the count."""
    n = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src) as f, open(dst, "w") as out:
        for line in f:
            if not line.strip():
                continue
            frame, rest = line.split(",", 1)
            k = int(float(frame))
            if first <= k <= last:
                out.write(f"{k - first + 1},{rest}")
                n += 1
    return n


def make_clip(seq_dir: str, out_dir: str, first: int, last: int, name: str | None = None,
              ext: str = ".mp4") -> Path:
    seq = Sequence(seq_dir)
    if not 1 <= first <= last <= seq.info.length:
        raise ValueError(f"--first {first} --last {last}: need 1 <= first <= last <= "
                         f"{seq.info.length} (the sequence length)")
    out = Path(out_dir)
    name = name or out.name
    out.mkdir(parents=True, exist_ok=True)
    with VideoFileWriter(out / f"{name}{ext}", seq.info.fps) as video:
        for k, image in seq.frames(first):
            if k > last:
                break
            video.write(image)
    for sub in sorted(p.parent.name for p in seq.path.glob("*/*.txt")):
        for fname in ("gt.txt", "det.txt"):
            src = seq.path / sub / fname
            if src.is_file():
                cut_rows(src, out / sub / fname, first, last)
    cp = configparser.ConfigParser()
    cp.optionxform = str
    cp["Sequence"] = {"name": name, "imDir": "img1", "frameRate": f"{seq.info.fps:g}",
                      "seqLength": str(last - first + 1), "imWidth": str(seq.info.width),
                      "imHeight": str(seq.info.height), "imExt": ".jpg"}
    with open(out / "seqinfo.ini", "w") as f:
        cp.write(f, space_around_delimiters=False)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/scripts/make_sample_clip.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sequence", metavar="SEQ_DIR")
    p.add_argument("out", metavar="OUT_DIR")
    p.add_argument("--first", type=int, default=1)
    p.add_argument("--last", type=int, required=True)
    p.add_argument("--name", default=None, help="sequence name (default: OUT_DIR's name)")
    p.add_argument("--ext", default=".mp4")
    args = p.parse_args(argv)
    print(f"wrote {make_clip(args.sequence, args.out, args.first, args.last, args.name, args.ext)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
