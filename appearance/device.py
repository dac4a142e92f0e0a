"""Where torch work runs: the one check of a user's ``device`` string."""

from __future__ import annotations

import torch


def resolve_device(device: str) -> torch.device:
    """torch.device for "cpu" / "cuda[:k]", or ValueError saying what is wrong."""
    try:
        dev = torch.device(device)
    except RuntimeError:
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device={device!r}: allowed 'cpu' or 'cuda[:index]'")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda': torch finds no CUDA device; use device='cpu'")
    return dev
