"""Tracker configuration: one frozen, validated dataclass holding every parameter.

``TrackerConfig()`` gives the project's default configuration: Deep SORT (Wojke et al. 2017) with a
cosine threshold matched to the shipped encoder and a short lost-track gallery, selected on some
dev sequences and confirmed on others (docs/accuracy.md). ``PRESETS["deepsort"]`` is the paper's
configuration. Named presets (``PRESETS``) hold the configurations the command line offers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal


def _check_range(name: str, value: float, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False) -> None:
    ok = True
    if lo is not None:
        ok &= value > lo if lo_open else value >= lo
    if hi is not None:
        ok &= value <= hi
    if not ok:
        lo_s = "-inf" if lo is None else f"{lo}"
        hi_s = "inf" if hi is None else f"{hi}"
        bracket = "(" if lo_open else "["
        raise ValueError(f"TrackerConfig.{name} = {value!r} is outside the allowed range "
                         f"{bracket}{lo_s}, {hi_s}]")


#: The appearance gate of a tracker whose config leaves ``max_cosine_distance`` None and whose
#: encoder carries none: the value fitted for encoder v1 (docs/accuracy.md).
DEFAULT_MAX_COSINE_DISTANCE = 0.25


@dataclass(frozen=True)
class TrackerConfig:
    """Every tracker parameter. Defaults are the project's default preset: Deep SORT's values
    (``deep_sort_app.py`` and paper) except ``max_cosine_distance`` (Deep SORT: 0.2, set for its
    own network; here the encoder's own calibrated gate) and ``lost_gallery_seconds`` 2 (Deep
    SORT: none). Each other switch is
    off by default; docs/accuracy.md has the ablation of every one.

    Life cycle:
        n_init: consecutive hits that confirm a tentative track.
        max_age: frames a confirmed track survives without a match before deletion.
        max_age_seconds: None (default): ``max_age`` frames. A number: the survival is counted
            in seconds instead, ``round(max_age_seconds * fps)`` frames (at least 1), so a
            lost track lives as long at 7 frames/s as at 30 (ByteTrack scales its buffer by
            the frame rate the same way); ``max_age`` is then unused. :attr:`max_age_frames`
            is the value in force.

    Appearance:
        max_cosine_distance: largest cosine distance accepted in the appearance stage. None
            (default): the gate calibrated for the encoder, carried in its metadata (the
            pipeline sets it from the encoder, :func:`cosmot.pipeline.gate.with_encoder_gate`);
            a ``Tracker`` given None without an encoder's gate uses
            ``DEFAULT_MAX_COSINE_DISTANCE`` (0.25, fitted for encoder v1). A threshold fitted
            for one encoder is wrong for another: set it only with ``cosmot calibrate``'s help.
        nn_budget: features kept per track (ring buffer of the most recent); the cosine
            distance of a detection to a track is its smallest distance to any of them.
        feature_mode: ``"gallery"`` (nearest neighbour over the last ``nn_budget`` features)
            or ``"ema"`` (one exponential moving average feature per track).
        ema_alpha: weight of the old feature in ``"ema"`` mode: f <- a f + (1 - a) f_new.

    Motion gate and association:
        gating_threshold: squared Mahalanobis distance above which a (track, detection) pair is
            impossible; 9.4877 is the chi-square 0.95 quantile for 4 degrees of freedom.
        gate_only_position: gate on (cx, cy) only (then use the 2-dof quantile 5.9915).
        matching_cascade: match tracks level by level in order of time since last update
            (Deep SORT). Off: one global assignment over all confirmed tracks.
        motion_weight: weight of the normalised Mahalanobis distance in the appearance cost,
            ``cost = (1 - w) * cosine + w * mahalanobis / gating_threshold`` (0: Deep SORT).
        max_iou_distance: largest ``1 - IoU`` accepted in the IoU stage.
        iou_max_time_since_update: confirmed tracks missed for at most this many frames take
            part in the IoU stage (Deep SORT: 1, i.e. only tracks seen in the last frame).
            Without embeddings every track takes part.
        iou_appearance_weight: weight of the frame-to-frame appearance term in the IoU stage:
            ``cost = (1 - w) * (1 - IoU) + w * cosine(det, track's previous-frame feature)``.
        iou_max_cosine_distance: pairs in the IoU stage whose cosine distance to the track's
            previous-frame feature exceeds this are rejected (2.0: no appearance veto, as in
            Deep SORT and the default).

    Kalman filter:
        std_weight_position, std_weight_velocity: Deep SORT's height-proportional noise.
        nsa_kalman: scale measurement noise by ``1 - score`` (NSA Kalman); needs scores in
            [0, 1]. None (the default): the detector's own value, as the pipeline fills it in
            (:meth:`with_detector_settings`; True for the shipped YOLOX-Nano, whose boxes it
            was measured on, docs/accuracy.md); off for det files of unknown score scale and
            for a bare ``Tracker``.

    Camera and detections:
        min_score: detections with a lower score are ignored by ``update``.
        nms_max_overlap: greedy non-maximum suppression of this frame's detections (those at or
            above ``min_score``) before association, as Deep SORT's application does: a
            detection whose IoU with a higher-scoring one exceeds this is dropped (not matched,
            starts no track). 1.0 disables (Deep SORT's default).
        low_score: with ``byte_association``, detections in [low_score, min_score) are matched
            in a second stage to tracks left over (BYTE, Zhang et al. 2022).
        byte_association: enable that second stage.
        birth_score: detections scoring below this may extend a track (in any stage) but never
            start one (BYTE's split of the one threshold into a continuing and a starting
            one; -inf: off, every unmatched detection above ``min_score`` starts a track).
            None (the default): the detector's own value, as the pipeline fills it in
            (:meth:`with_birth_score`; the shipped YOLOX-Nano's 0.5, chosen on its boxes,
            docs/accuracy.md); off where the detector has none (a det.txt of unknown score
            scale) and for a bare ``Tracker``.
        byte_max_iou_distance: largest ``1 - IoU`` accepted in the BYTE stage.
        min_foreground: a tentative track is confirmed (reported) only once the mean share of
            its boxes that a background model marks as moving (``update(..., foreground=)``,
            computed by :class:`cosmot.pipeline.foreground.ForegroundShare` for static
            cameras) reaches this, so something that never moved — a sign post the detector
            takes for a person — is never reported, while a person who walks is as soon as
            ``n_init`` boxes are matched. -inf: off (``foreground`` is then not needed).

    Recovery:
        oc_reupdate: observation-centric re-update after a gap (OC-SORT): when a lost track is
            matched again, its state is re-filtered along a virtual linear path between the
            last observation and the new one.
        lost_gallery_seconds: keep deleted confirmed tracks' galleries this long (needs
            ``fps``); a new track whose first ``n_init`` detections match a lost gallery within
            ``max_cosine_distance`` takes back the lost id. 0 disables.
        fps: frames per second of the input; turns seconds into frames.
    """

    # life cycle
    n_init: int = 3
    max_age: int = 30
    max_age_seconds: float | None = None
    # appearance
    max_cosine_distance: float | None = None
    nn_budget: int = 100
    feature_mode: Literal["gallery", "ema"] = "gallery"
    ema_alpha: float = 0.9
    # association
    gating_threshold: float = 9.4877
    gate_only_position: bool = False
    matching_cascade: bool = True
    motion_weight: float = 0.0
    max_iou_distance: float = 0.7
    iou_max_time_since_update: int = 1
    iou_appearance_weight: float = 0.0
    iou_max_cosine_distance: float = 2.0
    # Kalman filter
    std_weight_position: float = 1.0 / 20
    std_weight_velocity: float = 1.0 / 160
    nsa_kalman: bool | None = None
    # detections
    min_score: float = float("-inf")
    birth_score: float | None = None
    nms_max_overlap: float = 1.0
    byte_association: bool = False
    low_score: float = 0.1
    byte_max_iou_distance: float = 0.5
    min_foreground: float = float("-inf")
    # recovery
    oc_reupdate: bool = False
    lost_gallery_seconds: float = 2.0
    fps: float = 30.0

    def __post_init__(self) -> None:
        if not isinstance(self.n_init, int) or self.n_init < 1:
            raise ValueError(f"TrackerConfig.n_init = {self.n_init!r}: must be an int >= 1")
        if not isinstance(self.max_age, int) or self.max_age < 0:
            raise ValueError(f"TrackerConfig.max_age = {self.max_age!r}: must be an int >= 0")
        if self.max_age_seconds is not None and not (
                isinstance(self.max_age_seconds, (int, float)) and self.max_age_seconds > 0):
            raise ValueError(f"TrackerConfig.max_age_seconds = {self.max_age_seconds!r}: must "
                             f"be a number of seconds > 0, or None (count max_age frames)")
        if not isinstance(self.iou_max_time_since_update, int) or \
                self.iou_max_time_since_update < 1:
            raise ValueError(f"TrackerConfig.iou_max_time_since_update = "
                             f"{self.iou_max_time_since_update!r}: must be an int >= 1")
        if not isinstance(self.nn_budget, int) or self.nn_budget < 1:
            raise ValueError(f"TrackerConfig.nn_budget = {self.nn_budget!r}: must be an int >= 1")
        if self.feature_mode not in ("gallery", "ema"):
            raise ValueError(f"TrackerConfig.feature_mode = {self.feature_mode!r}: "
                             f"must be 'gallery' or 'ema'")
        if self.min_foreground != self.min_foreground or self.min_foreground > 1.0:
            raise ValueError(f"TrackerConfig.min_foreground = {self.min_foreground!r}: a share "
                             f"of the box in [0, 1], or -inf (off)")
        if self.birth_score is not None and self.birth_score != self.birth_score:  # NaN
            raise ValueError("TrackerConfig.birth_score = nan: give a number (-inf: off)")
        if self.max_cosine_distance is not None:
            _check_range("max_cosine_distance", self.max_cosine_distance, 0.0, 2.0)
        _check_range("ema_alpha", self.ema_alpha, 0.0, 1.0)
        _check_range("gating_threshold", self.gating_threshold, 0.0, None, lo_open=True)
        _check_range("motion_weight", self.motion_weight, 0.0, 1.0)
        _check_range("max_iou_distance", self.max_iou_distance, 0.0, 1.0)
        _check_range("iou_appearance_weight", self.iou_appearance_weight, 0.0, 1.0)
        _check_range("iou_max_cosine_distance", self.iou_max_cosine_distance, 0.0, None)
        _check_range("std_weight_position", self.std_weight_position, 0.0, None, lo_open=True)
        _check_range("std_weight_velocity", self.std_weight_velocity, 0.0, None, lo_open=True)
        _check_range("byte_max_iou_distance", self.byte_max_iou_distance, 0.0, 1.0)
        _check_range("nms_max_overlap", self.nms_max_overlap, 0.0, 1.0)
        _check_range("lost_gallery_seconds", self.lost_gallery_seconds, 0.0, None)
        _check_range("fps", self.fps, 0.0, None, lo_open=True)
        if self.byte_association and not self.low_score < self.min_score:
            raise ValueError(f"TrackerConfig.low_score = {self.low_score!r} must be below "
                             f"min_score = {self.min_score!r} when byte_association is on: "
                             f"BYTE's first stage takes the boxes scoring at least min_score, "
                             f"its second stage those in [low_score, min_score); set both, "
                             f"e.g. min_score=0.5 (on a command line: --set min_score=0.5 "
                             f"--set low_score=0.3 --set byte_association=true; a --grid over "
                             f"min_score still needs that --set)")

    @property
    def max_age_frames(self) -> int:
        """Missed frames a confirmed track survives: ``max_age``, or ``max_age_seconds`` at
        ``fps`` when that is set."""
        if self.max_age_seconds is None:
            return self.max_age
        return max(1, int(round(self.max_age_seconds * self.fps)))

    def with_gate(self, gate: float | None) -> "TrackerConfig":
        """This config with ``max_cosine_distance`` filled in where it is None: ``gate`` (an
        encoder's calibrated one), else ``DEFAULT_MAX_COSINE_DISTANCE``. A set value stays."""
        if self.max_cosine_distance is not None:
            return self
        return self.replace(max_cosine_distance=DEFAULT_MAX_COSINE_DISTANCE if gate is None
                            else float(gate))

    def with_birth_score(self, score: float | None) -> "TrackerConfig":
        """This config with ``birth_score`` filled in where it is None: ``score`` (a detector's
        own), else -inf (off). A set value stays."""
        if self.birth_score is not None:
            return self
        return self.replace(birth_score=float("-inf") if score is None else float(score))

    def with_detector_settings(self, birth_score: float | None = None,
                               nsa_kalman: bool | None = None) -> "TrackerConfig":
        """This config with the settings that depend on a detector's score scale filled in
        where they are None: ``birth_score`` (else off) and ``nsa_kalman`` (else False). Set
        values stay."""
        cfg = self.with_birth_score(birth_score)
        if cfg.nsa_kalman is None:
            cfg = cfg.replace(nsa_kalman=bool(nsa_kalman))
        return cfg

    def replace(self, **changes) -> "TrackerConfig":
        """A copy with some fields changed (validated again)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"TrackerConfig has no field(s) {sorted(unknown)}; known fields: "
                             f"{[f.name for f in dataclasses.fields(self)]}")
        return dataclasses.replace(self, **changes)


#: Plain Deep SORT as published: cascade, chi-square gate, 0.2 cosine, budget 100, n_init 3,
#: max_age 30, IoU stage on overlap alone, no lost-track gallery.
DEEPSORT = TrackerConfig(max_cosine_distance=0.2, lost_gallery_seconds=0.0, nms_max_overlap=1.0,
                         birth_score=float("-inf"), nsa_kalman=False)

#: The project's default (docs/accuracy.md): selected on TUD-Stadtmitte + KITTI-17 by mean HOTA,
#: confirmed on PETS09-S2L1 + MOT16-11.
DEFAULT = TrackerConfig()

PRESETS: dict[str, TrackerConfig] = {
    "default": DEFAULT,
    "deepsort": DEEPSORT,
}


def preset(name: str) -> TrackerConfig:
    """The named configuration; ``ValueError`` listing the names when unknown."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
