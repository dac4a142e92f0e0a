"""Throughput of encoders on the CPU: crops per second, model only and with crop+preprocess.

"model only": the network on an already preprocessed (B, 3, H, W) float32 batch.
"pipeline": ``encoder.embed(frame, boxes)`` with B boxes per call: cutting, resizing,
normalising, the network and the output normalisation.
Each figure is the median of ``repeats`` timed rounds of at least ``seconds`` each, after a
warm-up, so that a brief load spike from another process does not decide it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Rate:
    """crops_per_s: median over rounds; spread: (min, max) over rounds."""

    crops_per_s: float
    spread: tuple[float, float]


def measure(fn: Callable[[], None], crops_per_call: int, seconds: float = 1.5,
            repeats: int = 3) -> Rate:
    """Call ``fn`` repeatedly; crops per second over rounds of >= ``seconds``."""
    fn()  # warm-up
    fn()
    rates = []
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= seconds:
                break
        rates.append(n * crops_per_call / dt)
    return Rate(float(np.median(rates)), (float(min(rates)), float(max(rates))))


def pipeline_rate(embed: Callable[[np.ndarray, np.ndarray], np.ndarray],
                  frames: list[np.ndarray], boxes: list[np.ndarray], batch: int,
                  seconds: float = 1.5, repeats: int = 3) -> Rate:
    """``embed(frame, boxes[:batch])`` cycling over the frames; boxes[i]: (M_i, 4) xyxy with
    M_i >= 1, repeated when it holds fewer than ``batch`` boxes."""
    calls = []
    for f, b in zip(frames, boxes):
        reps = int(np.ceil(batch / len(b)))
        calls.append((f, np.tile(b, (reps, 1))[:batch]))
    state = {"i": 0}

    def step() -> None:
        f, b = calls[state["i"] % len(calls)]
        state["i"] += 1
        embed(f, b)

    return measure(step, batch, seconds, repeats)
