"""``load_encoder(name)``: the shipped encoder, weights installed by name, a checkpoint, an ONNX
file, or the colour-histogram baseline.

Named weights are a JSON record ``NAME.json`` (file, SHA-256, training command, held-out scores)
beside the model files, looked up in the package's ``weights/`` folder (read-only: what ships)
and then in the user's weights folder (``$COSMOT_WEIGHTS``, else the platform's user data
folder, e.g. ``~/.local/share/cosmot/weights``), where ``cosmot reid ship`` installs new ones.
A record may name an ONNX export beside the torch checkpoint (``"onnx": {"file", "sha256"}``):
on the CPU that export runs through ONNX Runtime, so the default encoder needs no torch.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from cosmot.runtime import sha256_file

from .encoder import Encoder, check_gate
from .histogram import HistogramEncoder
from .integrity import (check_beside_or_warn, check_sha256, checksum_beside,
                        read_weights_record)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_RECORD = WEIGHTS_DIR / "default.json"
RUNTIMES = ("auto", "onnx", "torch")


def user_weights_dir() -> Path:
    """Where user-installed weights live: ``$COSMOT_WEIGHTS``, else the platform's user data
    folder (``platformdirs.user_data_path("cosmot") / "weights"``)."""
    env = os.environ.get("COSMOT_WEIGHTS")
    if env:
        return Path(env)
    import platformdirs

    return platformdirs.user_data_path("cosmot") / "weights"


def find_record(name: str) -> Path | None:
    """The ``NAME.json`` record of named weights (shipped first, then the user's), or None."""
    for folder in (WEIGHTS_DIR, user_weights_dir()):
        path = folder / f"{name}.json"
        if path.is_file():
            return path
    return None


def known_names() -> list[str]:
    """Names ``load_encoder`` accepts besides paths."""
    names = {"histogram"}
    for folder in (WEIGHTS_DIR, user_weights_dir()):
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.json"))
    return sorted(names)


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def require_torch(what: str) -> None:
    """ModuleNotFoundError saying which extra brings torch, when it is missing."""
    if not torch_available():
        raise ModuleNotFoundError(f"{what} needs PyTorch, which is not installed: "
                                  f"pip install 'cosmot[train]' (or pip install torch)",
                                  name="torch")


def _load_torch(path: Path, sha256: str | None, device: str, batch_size: int,
                threads: int | None) -> Encoder:
    require_torch(f"encoder {path.name} on device {device!r}")
    from .checkpoint import load_checkpoint
    from .torch_encoder import TorchEncoder

    model, meta = load_checkpoint(path, sha256)
    encoder = TorchEncoder(model, device, batch_size, threads)
    encoder.path = path  # named in messages (e.g. the uncalibrated-gate warning)
    encoder.max_cosine_distance = check_gate(meta.get("max_cosine_distance"), str(path))
    return encoder


def named_record(name: str) -> Path | None:
    """The record of installed weights called ``name`` (e.g. "default", "v1"), or None when
    ``name`` is a path or names no installed weights."""
    if not name or any(c in name for c in "/\\.") or name == "histogram":
        return None
    return find_record(name)


def shipped_names() -> list[str]:
    """Names of the weights shipped in the package (``weights/*.json``)."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.json"))


def load_encoder(name: str | os.PathLike = "default", device: str = "cpu",
                 batch_size: int = 64, threads: int | None = None,
                 runtime: str = "auto") -> Encoder:
    """An encoder by name.

    name: "default" (the shipped weights, SHA-256 checked), another installed name (see
        ``known_names()``), "histogram" (colour baseline), a path to a ``.pt`` checkpoint
        written by ``cosmot reid train``, or a path to a ``.onnx`` embedder (run by ONNX
        Runtime on the CPU whatever ``device`` says).
    device: "cpu" or "cuda" (torch, float16 autocast).
    runtime: for named weights: "auto" (ONNX Runtime on the CPU when the record has an ONNX
        export, else torch), "onnx" or "torch".
    The encoder's ``max_cosine_distance`` is the tracker gate calibrated for it: from the
    record, else the checkpoint's meta or the ONNX metadata; None when none carries one.
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime={runtime!r}: allowed {', '.join(RUNTIMES)}")
    key = os.fspath(name)
    if key == "histogram":
        return HistogramEncoder()
    path = Path(key)
    if path.suffix == ".onnx":
        from .onnx_encoder import OnnxEncoder

        if path.is_file():
            check_beside_or_warn(path, "its bytes are")
        return OnnxEncoder(path, threads=threads, batch_size=batch_size)
    if path.suffix in (".pt", ".pth"):
        expected = checksum_beside(path) if path.is_file() else None
        return _load_torch(path, expected, device, batch_size, threads)
    record_path = named_record(key) if path.suffix == "" else None
    if record_path is None:
        raise ValueError(f"encoder {key!r}: not a known name ({', '.join(known_names())}), a "
                         f".pt checkpoint path or a .onnx file path")
    record = read_weights_record(record_path)
    folder = record_path.parent
    onnx = record.get("onnx")
    use_onnx = onnx is not None and (runtime == "onnx" or (runtime == "auto" and
                                                            str(device).startswith("cpu")))
    if runtime == "onnx" and onnx is None:
        raise ValueError(f"encoder {key!r}: {record_path} names no ONNX export; use "
                         f"runtime='torch'")
    if use_onnx:
        from .onnx_encoder import OnnxEncoder

        onnx_path = folder / onnx["file"]
        check_sha256(onnx_path, onnx["sha256"])
        encoder = OnnxEncoder(onnx_path, threads=threads, batch_size=batch_size)
    else:
        encoder = _load_torch(folder / record["file"], record["sha256"], device, batch_size,
                              threads)
    # the record's gate wins over the model file's: it is where `cosmot calibrate --write` and
    # `cosmot reid ship` put it
    gate = check_gate(record.get("max_cosine_distance"), str(record_path))
    if gate is not None:
        encoder.max_cosine_distance = gate
    return encoder


def encoder_from_name(name: str, device: str = "cpu", threads: int | None = None):
    """The encoder a command line or a config names, or None for "none" (motion only);
    ``threads``: its intra-op threads on the CPU (default: every core)."""
    if name == "none":
        return None
    return load_encoder(name, device=device, threads=threads)


def encoder_identity(name: str) -> str:
    """A string that changes whenever the named encoder's weights change (for caches and
    checkpoints): "none"/"histogram", a record's SHA-256, else the file's path and SHA-256."""
    if name in ("none", "histogram"):
        return name
    path = Path(name)
    if path.suffix == "":
        record = find_record(name)
        if record is not None:
            return f"{name}:" + read_weights_record(record)["sha256"]
    return f"{path.resolve()}:" + sha256_file(path)


def record_gate(encoder: str, gate: float) -> Path:
    """Record ``gate`` as the calibrated ``max_cosine_distance`` of ``encoder`` (a ``.pt``
    checkpoint, an ``.onnx`` file, or the name of user-installed weights); returns the file
    written. Shipped weights are read-only: ship a copy (cosmot reid ship)."""
    path = Path(encoder)
    if path.suffix == ".onnx":
        from .export import set_onnx_gate

        set_onnx_gate(path, gate)
        return path
    if path.suffix in (".pt", ".pth"):
        require_torch(f"writing the gate into {path}")
        from .checkpoint import update_checkpoint_meta

        update_checkpoint_meta(path, {"max_cosine_distance": float(gate)})
        return path
    record = named_record(encoder)
    if record is None:
        raise ValueError(f"encoder {encoder!r} is not a .pt or .onnx file or the name "
                         f"of installed weights")
    if record.parent == WEIGHTS_DIR:
        raise ValueError(f"{record} belongs to the installed package (read-only); "
                         f"record the gate in a copy: cosmot reid ship CHECKPOINT "
                         f"--max-cosine-distance {gate:.2f}")
    data = json.loads(record.read_text())
    data["max_cosine_distance"] = float(gate)
    tmp = record.with_name(record.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(record)
    return record
