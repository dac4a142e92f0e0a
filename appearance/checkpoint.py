"""Saving and loading embedding-network checkpoints, and SHA-256 checks of weight files.

A checkpoint is a dict of plain data and tensors, readable with ``torch.load(weights_only=True)``:
``{"format": FORMAT, "net": NetConfig.to_dict(), "state_dict": {...}, "meta": {...},
"tensors_sha256": "..."}``. ``tensors_sha256`` (:func:`tensors_sha256`: every tensor's name,
dtype, shape and bytes) is checked at load, so damaged tensor bytes that still unpickle are
refused; checkpoints from before it was added load with a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import torch

from .integrity import UncheckedModelWarning, check_sha256
from .model import EmbeddingNet, NetConfig

FORMAT = "cosmot-embedding/1"


def tensors_sha256(state_dict: dict) -> str:
    """Hex SHA-256 over the tensors of a state dict in name order: name, dtype, shape, bytes."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def save_checkpoint(path: str | os.PathLike, model: EmbeddingNet, meta: dict | None = None
                    ) -> None:
    """Write the model's config and weights (float32, no optimiser state) to ``path``; ``meta``
    must be JSON-like (values that are not are stored as their ``str``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    # meta as plain JSON data (anything else, e.g. torch.__version__, becomes a string) so that
    # torch.load(weights_only=True) accepts the file
    plain = json.loads(json.dumps(dict(meta or {}), default=str))
    torch.save({"format": FORMAT, "net": model.config.to_dict(), "state_dict": state,
                "meta": plain, "tensors_sha256": tensors_sha256(state)}, path)


def load_checkpoint(path: str | os.PathLike, expected_sha256: str | None = None
                    ) -> tuple[EmbeddingNet, dict]:
    """Load a checkpoint into an ``EmbeddingNet`` in eval mode; returns (model, meta).

    With ``expected_sha256`` the file is checked first and ValueError is raised on a mismatch.
    Only tensors and plain data are unpickled (``weights_only=True``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file (0 bytes); copy or train the checkpoint again")
    if expected_sha256 is not None:
        check_sha256(path, expected_sha256)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, KeyError, OSError,
            zipfile.BadZipFile, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot be read as a tensors-only checkpoint "
                         f"(torch.load(weights_only=True) says: {str(e).splitlines()[0]})"
                         ) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{path}: not a cosmot embedding checkpoint (format {FORMAT!r} "
                         f"expected); for other networks export ONNX and use OnnxEncoder")
    recorded = ckpt.get("tensors_sha256")
    try:
        got = tensors_sha256(ckpt["state_dict"])
    except (KeyError, AttributeError, TypeError) as e:
        raise ValueError(f"{path}: damaged checkpoint (state_dict unreadable: {e})") from None
    if recorded is None:
        if expected_sha256 is None:
            warnings.warn(UncheckedModelWarning(
                f"{path}: its tensors are not checked: it was written before checkpoints "
                f"carried a checksum and there is no {path.name}.sha256 beside it (save it again "
                f"with cosmot, or write one with 'sha256sum {path.name} > {path.name}.sha256')"),
                stacklevel=2)
    elif got != recorded:
        raise ValueError(f"{path}: the tensors' checksum {got[:12]}... does not match the "
                         f"recorded {recorded[:12]}...: the weights are damaged; use another "
                         f"copy or retrain")
    try:
        model = EmbeddingNet(NetConfig.from_dict(ckpt["net"]))
        model.load_state_dict(ckpt["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise ValueError(f"{path}: the checkpoint does not fit its network config: "
                         f"{str(e).splitlines()[0]}") from None
    model.eval()
    return model, dict(ckpt.get("meta", {}))


def update_checkpoint_meta(path: str | os.PathLike, changes: dict) -> None:
    """Set entries of a checkpoint's ``meta`` in place (the tensors and their checksum stay
    as they are; written to a temporary file and renamed)."""
    path = Path(path)
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{path}: not a cosmot embedding checkpoint (format {FORMAT!r} "
                         f"expected)")
    ckpt.setdefault("meta", {}).update(json.loads(json.dumps(changes, default=str)))
    tmp = path.with_name(path.name + ".tmp")
    torch.save(ckpt, tmp)
    os.replace(tmp, path)
    if Path(f"{path}.sha256").is_file():  # the file's bytes changed: so does their checksum
        from .integrity import write_checksum_beside

        write_checksum_beside(path)
