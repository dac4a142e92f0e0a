"""Thresholds that travel with their model: the appearance gate with the encoder, the birth
score with the detector.

A cosine threshold fitted for one encoder is wrong for another (issue 18's de-risk run, on a
sequence this project does not have: 0.25 vs 0.1 decided between 37.3 and 43.8 HOTA). So
``TrackerConfig.max_cosine_distance`` defaults to None, and before a run the pipeline fills it
in from the encoder's calibrated gate
(its weights' record, checkpoint or ONNX metadata; ``cosmot calibrate --write`` puts it there).
A value the user sets (``--set max_cosine_distance=...``, a preset that pins one) stays.
"""

from __future__ import annotations

import warnings

from cosmot.tracker import DEFAULT_MAX_COSINE_DISTANCE, TrackerConfig


class UncalibratedEncoderWarning(UserWarning):
    """An encoder without a calibrated ``max_cosine_distance`` runs at the v1 default."""


def encoder_gate(encoder) -> float | None:
    """The encoder's calibrated ``max_cosine_distance``, or None."""
    return getattr(encoder, "max_cosine_distance", None)


def describe_encoder(encoder) -> str:
    path = getattr(encoder, "path", None)
    return str(path) if path is not None else type(encoder).__name__


def with_encoder_gate(config: TrackerConfig, encoder) -> TrackerConfig:
    """``config`` with ``max_cosine_distance`` taken from ``encoder`` where the config leaves it
    None; an encoder with no gate of its own gets ``DEFAULT_MAX_COSINE_DISTANCE`` and an
    ``UncalibratedEncoderWarning`` saying how to calibrate it. Motion-only runs (``encoder``
    None) get the default, which then gates nothing."""
    if config.max_cosine_distance is not None:
        return config
    gate = encoder_gate(encoder) if encoder is not None else None
    if encoder is not None and gate is None:
        warn_uncalibrated(encoder)
    return config.with_gate(gate)


def warn_uncalibrated(encoder) -> None:
    warnings.warn(UncalibratedEncoderWarning(
        f"encoder {describe_encoder(encoder)} carries no calibrated max_cosine_distance: the "
        f"tracker uses its generic default {DEFAULT_MAX_COSINE_DISTANCE}, which may merge or "
        f"split identities with this encoder. Calibrate it on sequences with ground "
        f"truth: cosmot calibrate SEQ... --encoder {describe_encoder(encoder)} --write (or set "
        f"one: --set max_cosine_distance=D)"), stacklevel=3)


def detector_birth_score(detector) -> float | None:
    """The detector's own ``birth_score`` (its attribute, or what a det file's metadata
    records), or None."""
    return getattr(detector, "birth_score", None)


def with_detector_birth_score(config: TrackerConfig, detector) -> TrackerConfig:
    """``config`` with the settings that depend on the detector's score scale taken from
    ``detector`` where the config leaves them None: ``birth_score`` (off when the detector has
    none: a score threshold is only meaningful on the scale it was chosen on) and
    ``nsa_kalman`` (False when the detector does not say its scores are probabilities it was
    measured with)."""
    return config.with_detector_settings(detector_birth_score(detector),
                                         getattr(detector, "nsa_kalman", None))
