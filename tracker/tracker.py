"""The track manager: predict, associate, update, and the tentative/confirmed/deleted life cycle.

Each call of :meth:`Tracker.update` is one frame:

1. predict every track one frame ahead (and apply camera-motion compensation when given);
2. appearance stage: confirmed tracks vs detections, cost = cosine distance to the nearest
   feature of the track's gallery, gated by the Mahalanobis distance (chi-square 95%), solved
   with the Hungarian method — level by level of time since update (the matching cascade);
3. IoU stage: tentative tracks and tracks missed only in the last frame vs the detections left,
   cost = 1 - IoU, optionally blended with the cosine distance to the track's previous-frame
   feature so that overlap alone does not decide continuity;
4. optional BYTE stage: low-score detections vs the tracks still unmatched;
5. update matched tracks (Kalman, gallery), age unmatched ones, delete, start new tracks.

Without embeddings the tracker runs on motion alone (IoU stage over all tracks).
"""

from __future__ import annotations

import numpy as np

from .assignment import linear_assignment, matching_cascade
from .association import appearance_cost, iou_cost, veto_class_pairs
from .warp import warp_points, warp_states
from .config import TrackerConfig
from .distances import normalize_rows
from .geometry import iou_matrix, nms, xyah_to_xyxy, xyxy_to_xyah
from .frame_checks import check_frame_inputs
from .kalman_filter import KalmanFilter
from .lost_tracks import LostTracks
from .results import TrackedObjects
from .track_set import CONFIRMED, TENTATIVE, TrackSet

_EMPTY = np.zeros(0, np.int64)


class Tracker:
    """Deep SORT-style multi-object tracker; one instance per video stream.

    Args:
        config: all parameters (``TrackerConfig()`` = the project default;
            ``PRESETS["deepsort"]`` = the paper's configuration).

    State is per instance: two trackers never share ids. ``reset()`` starts afresh.
    """

    def __init__(self, config: TrackerConfig | None = None):
        if config is None:
            config = TrackerConfig()
        if not isinstance(config, TrackerConfig):
            raise TypeError(f"config must be a TrackerConfig, got {type(config).__name__}")
        self.config = config.with_gate(None)  # None: the v1 default (no encoder's gate known)
        self.kf = KalmanFilter(config.std_weight_position, config.std_weight_velocity)
        self.reset()

    def reset(self) -> None:
        """Forget all tracks; ids start again at 1."""
        cfg = self.config
        self.tracks = TrackSet(budget=cfg.nn_budget if cfg.feature_mode == "gallery" else 1)
        self.lost = LostTracks()
        self.frame_count = 0
        self._next_uid = 1
        self._next_id = 1
        self._uses_appearance: bool | None = None

    # ------------------------------------------------------------------ public API
    def update(self, boxes_xyxy: np.ndarray, scores: np.ndarray | None = None,
               embeddings: np.ndarray | None = None, classes: np.ndarray | None = None,
               warp: np.ndarray | None = None,
               foreground: np.ndarray | None = None) -> TrackedObjects:
        """Advance one frame with this frame's detections.

        Args:
            boxes_xyxy: (M, 4) detection boxes in pixels (left, top, right, bottom).
            scores: (M,) detection scores (default 1). Detections below
                ``config.min_score`` are not used (or only in the BYTE stage).
            embeddings: (M, D) appearance features (normalised here), or None for motion only.
                Give them on every frame or on none.
            classes: (M,) int class ids; a track only matches detections of its own class.
            warp: optional 2x3 affine (or 3x3) transform from the previous frame's pixel
                coordinates to this frame's (camera-motion compensation).
            foreground: (M,) share of each box a background model marks as moving, in [0, 1]
                (:class:`cosmot.pipeline.foreground.ForegroundShare`); needed on frames with
                boxes when ``config.min_foreground`` is on, ignored otherwise.

        Returns:
            The confirmed tracks matched in this frame (see :class:`TrackedObjects`); every
            confirmed track alive, matched or coasting: :meth:`active_tracks`.
        """
        boxes, scores, feats, classes = self._validate(boxes_xyxy, scores, embeddings, classes)
        cfg = self.config
        fg = self._foreground(foreground, len(boxes))
        self.frame_count += 1
        self._predict(warp)
        t = self.tracks
        n = t.n
        det_xyah = xyxy_to_xyah(boxes)
        high = (scores >= cfg.min_score).nonzero()[0]
        if cfg.nms_max_overlap < 1.0 and high.size > 1:
            high = np.sort(high[nms(boxes[high], scores[high], cfg.nms_max_overlap,
                                    classes=classes[high])])
        low = (np.flatnonzero((scores >= cfg.low_score) & (scores < cfg.min_score))
               if cfg.byte_association else _EMPTY)

        matched_rows, matched_dets = [], []
        free_rows = np.ones(n, bool)
        free_dets = high

        # appearance stage (confirmed tracks, gated cosine, cascade), then IoU stage (young and
        # recently seen tracks, overlap with an optional appearance veto). The other order (IoU
        # first) scored 6-7 HOTA lower on the dev sequences (docs/accuracy.md, section 4).
        for stage in (self._appearance_stage, self._iou_stage):
            if not (n and free_dets.size):
                break
            rows, cols = stage(free_rows, free_dets, det_xyah, boxes, feats, classes)
            matched_rows.append(rows)
            matched_dets.append(free_dets[cols])
            free_rows[rows] = False
            keep = np.ones(free_dets.size, bool)
            keep[cols] = False
            free_dets = free_dets[keep]

        # BYTE stage: low-score detections vs tracks seen in the last frame
        byte_rows = _EMPTY
        if low.size and n:
            cand = free_rows & (t.state[:n] == CONFIRMED) & (t.time_since_update[:n] == 1)
            rows = cand.nonzero()[0]
            if rows.size:
                cost = 1.0 - iou_matrix(self._predicted_xyxy(rows), boxes[low])
                veto_class_pairs(cost, t.class_id[rows], classes[low])
                r, c = linear_assignment(cost, cfg.byte_max_iou_distance)
                byte_rows = rows[r]
                matched_rows.append(byte_rows)
                matched_dets.append(low[c])
                free_rows[byte_rows] = False

        rows = np.concatenate(matched_rows) if matched_rows else _EMPTY
        dets = np.concatenate(matched_dets) if matched_dets else _EMPTY
        self._update_matched(rows, dets, boxes, det_xyah, scores, feats, classes, byte_rows, fg)
        self._age_unmatched(free_rows)
        if cfg.birth_score is not None and cfg.birth_score > float("-inf"):
            # below it a detection only continues tracks
            free_dets = free_dets[scores[free_dets] >= cfg.birth_score]
        self._start_tracks(free_dets, boxes, det_xyah, scores, feats, classes, fg)
        return self._output()

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """The whole state as numpy arrays and the config as JSON (see :mod:`.state`); save it
        with ``np.savez`` or :func:`.state.save_state`, no pickle needed."""
        from .state import state_dict

        return state_dict(self)

    @classmethod
    def from_state(cls, state) -> "Tracker":
        """A tracker that continues exactly where the one that gave ``state`` stopped."""
        from .state import from_state

        return from_state(state)

    def __getstate__(self) -> dict:
        # pickle and deepcopy go through the state API: the track arrays are views of a few
        # base arrays, which a plain pickle of __dict__ would turn into independent copies
        return {"state": self.state_dict()}

    def __setstate__(self, d: dict) -> None:
        from .state import from_state

        self.__dict__.update(from_state(d["state"]).__dict__)

    @property
    def num_tracks(self) -> int:
        """Live tracks (tentative and confirmed, matched or not)."""
        return self.tracks.n

    # ------------------------------------------------------------------ steps
    def _validate(self, boxes, scores, embeddings, classes):
        boxes, scores, feats, classes = check_frame_inputs(boxes, scores, embeddings, classes,
                                                           self.tracks.dim)
        if len(boxes):
            uses = feats is not None
            if self._uses_appearance is None:
                self._uses_appearance = uses
                if uses:
                    self.tracks.set_feature_dim(feats.shape[1])
            elif uses != self._uses_appearance:
                raise ValueError(
                    "embeddings were given on some frames and not on others; give them on every "
                    "frame (appearance tracking) or on none (motion only), or call reset()")
        return boxes, scores, feats, classes

    def _foreground(self, foreground, m: int) -> np.ndarray | None:
        """The frame's foreground shares as (M,) floats, or None when min_foreground is off."""
        if self.config.min_foreground == float("-inf"):
            return None
        if foreground is None:
            if m == 0:
                return np.zeros(0)
            raise ValueError(f"TrackerConfig.min_foreground = {self.config.min_foreground} "
                             f"needs update(..., foreground=): the share of each box that moves "
                             f"(cosmot.pipeline.foreground.ForegroundShare); or set "
                             f"min_foreground=-inf")
        fg = np.asarray(foreground, np.float64).reshape(-1)
        if fg.shape[0] != m:
            raise ValueError(f"foreground has {fg.shape[0]} entries for {m} boxes")
        if not (np.isfinite(fg).all() and (fg >= 0).all() and (fg <= 1).all()):
            raise ValueError(f"foreground shares must lie in [0, 1]; got min {fg.min()}, max "
                             f"{fg.max()}")
        return fg

    def _predict(self, warp) -> None:
        t = self.tracks
        n = t.n
        if not n:
            return
        mean, cov = self.kf.predict(t.mean[:n], t.cov[:n])
        if warp is not None:
            mean, cov = warp_states(mean, cov, warp)
            t.obs_mean[:n], t.obs_cov[:n] = warp_states(t.obs_mean[:n], t.obs_cov[:n], warp)
            t.obs_xyah[:n] = warp_points(t.obs_xyah[:n], warp)
        # keep boxes valid when a lost track's velocity would shrink it to nothing
        tiny = mean[:, 3] < 1.0
        if np.count_nonzero(tiny):
            mean[tiny, 3] = 1.0
            mean[tiny, 7] = 0.0
        np.maximum(mean[:, 2], 1e-2, out=mean[:, 2])
        t.mean[:n] = mean
        t.cov[:n] = cov
        t.age[:n] += 1
        t.time_since_update[:n] += 1

    def _predicted_xyxy(self, rows: np.ndarray) -> np.ndarray:
        """Predicted boxes (xyxy) of the track rows ``rows``."""
        return xyah_to_xyxy(self.tracks.mean[rows, :4])

    def _appearance_stage(self, free_rows, dets, det_xyah, boxes, feats, classes):
        """Free confirmed tracks vs detections ``dets``; returns (track rows, det positions)."""
        cfg, t = self.config, self.tracks
        rows = (free_rows & (t.state[: t.n] == CONFIRMED)).nonzero()[0]
        if feats is None or rows.size == 0:
            return _EMPTY, _EMPTY
        cost, limit = appearance_cost(cfg, t, self.kf, rows, dets, det_xyah, feats)
        veto_class_pairs(cost, t.class_id[rows], classes[dets])
        if cfg.matching_cascade:
            r, c = matching_cascade(cost, t.time_since_update[rows], limit)
        else:
            r, c = linear_assignment(cost, limit)
        return rows[r], c

    def _iou_stage(self, free_rows, dets, det_xyah, boxes, feats, classes):
        """Free tentative and recently seen tracks (all free tracks without appearance) vs
        detections ``dets``; returns (track rows, det positions)."""
        cfg, t = self.config, self.tracks
        cand = free_rows.copy()
        if feats is not None:
            cand &= (t.state[: t.n] == TENTATIVE) | (
                t.time_since_update[: t.n] <= cfg.iou_max_time_since_update)
        rows = cand.nonzero()[0]
        if rows.size == 0:
            return _EMPTY, _EMPTY
        cost, limit = iou_cost(cfg, t, rows, dets, self._predicted_xyxy(rows), boxes, feats)
        veto_class_pairs(cost, t.class_id[rows], classes[dets])
        r, c = linear_assignment(cost, limit)
        return rows[r], c

    def _update_matched(self, rows, dets, boxes, det_xyah, scores, feats, classes, byte_rows,
                        fg=None):
        if rows.size == 0:
            return
        cfg, t = self.config, self.tracks
        conf = np.clip(scores[dets], 0.0, 1.0) if cfg.nsa_kalman else None
        gap = t.time_since_update[rows]
        mean, cov = self.kf.update(t.mean[rows], t.cov[rows], det_xyah[dets], conf)
        if cfg.oc_reupdate and (gap > 1).any():
            re = np.flatnonzero(gap > 1)
            mean[re], cov[re] = self._reupdate(rows[re], det_xyah[dets[re]], gap[re],
                                               None if conf is None else conf[re])
        t.mean[rows], t.cov[rows] = mean, cov
        t.obs_mean[rows], t.obs_cov[rows] = mean, cov
        t.obs_xyah[rows] = det_xyah[dets]
        t.hits[rows] += 1
        t.time_since_update[rows] = 0
        t.det_xyxy[rows] = boxes[dets]
        t.det_index[rows] = dets
        t.score[rows] = scores[dets]
        t.class_id[rows] = classes[dets]
        if feats is not None:
            # low-score (BYTE) matches are often occluded: their features stay out of galleries
            app = ~np.isin(rows, byte_rows) if byte_rows.size else slice(None)
            self._add_features(rows[app], feats[dets[app]])
        due = (t.state[rows] == TENTATIVE) & (t.hits[rows] >= cfg.n_init)
        if fg is not None:
            t.fg_sum[rows] += fg[dets]
            due &= t.fg_sum[rows] >= cfg.min_foreground * t.hits[rows]
        newly = rows[due]
        if newly.size:
            self._confirm(newly)

    def _reupdate(self, rows, z_new, gap, conf):
        """OC-SORT's observation-centric re-update: re-filter from the last observation along a
        straight path of virtual observations to the new one. Vectorised over tracks, looped
        over the (few) frames of the gap."""
        t = self.tracks
        mean, cov = t.obs_mean[rows].copy(), t.obs_cov[rows].copy()
        z_old = t.obs_xyah[rows]
        for step in range(1, int(gap.max()) + 1):
            act = np.flatnonzero(gap >= step)
            m, p = self.kf.predict(mean[act], cov[act])
            frac = (step / gap[act])[:, None]
            z = z_old[act] + (z_new[act] - z_old[act]) * frac
            c = None if conf is None else conf[act]
            mean[act], cov[act] = self.kf.update(m, p, z, c)
        return mean, cov

    def _add_features(self, rows, feats) -> None:
        t, cfg = self.tracks, self.config
        if cfg.feature_mode == "ema":
            old = t.gallery[rows, 0]
            a = cfg.ema_alpha
            t.gallery[rows, 0] = normalize_rows(a * old + (1.0 - a) * feats)
        else:
            t.gallery[rows, t.gallery_pos[rows]] = feats
            t.gallery_pos[rows] = (t.gallery_pos[rows] + 1) % t.budget
            t.n_features[rows] += 1
        t.last_feature[rows] = feats

    def _confirm(self, rows) -> None:
        t, cfg = self.tracks, self.config
        rows = rows[np.argsort(t.uid[rows])]  # ids in order of track creation
        t.state[rows] = CONFIRMED
        ids = np.zeros(rows.size, np.int64)
        if cfg.lost_gallery_seconds > 0 and len(self.lost) and t.dim:
            self.lost.expire(self.frame_count)
            ids = self.lost.claim(t.gallery[rows], max(cfg.max_cosine_distance, 1e-9))
        fresh = ids == 0
        ids[fresh] = np.arange(self._next_id, self._next_id + int(fresh.sum()))
        self._next_id += int(fresh.sum())
        t.track_id[rows] = ids

    def _age_unmatched(self, free_rows) -> None:
        t, cfg = self.tracks, self.config
        n = free_rows.shape[0]
        if n == 0:
            return
        state = t.state[:n]
        dead = free_rows & ((state == TENTATIVE) | (t.time_since_update[:n] > cfg.max_age_frames))
        if not np.count_nonzero(dead):
            return
        if cfg.lost_gallery_seconds > 0 and t.dim:
            gone = np.flatnonzero(dead & (state == CONFIRMED))
            if gone.size:
                frames = int(round(cfg.lost_gallery_seconds * cfg.fps))
                self.lost.add(t.track_id[gone], t.gallery[gone], self.frame_count + frames)
        t.remove(dead)

    def _start_tracks(self, dets, boxes, det_xyah, scores, feats, classes, fg=None) -> None:
        if dets.size == 0:
            return
        t, cfg = self.tracks, self.config
        rows = t.add(dets.size)
        mean, cov = self.kf.initiate(det_xyah[dets])
        t.mean[rows], t.cov[rows] = mean, cov
        t.obs_mean[rows], t.obs_cov[rows] = mean, cov
        t.obs_xyah[rows] = det_xyah[dets]
        t.uid[rows] = np.arange(self._next_uid, self._next_uid + dets.size)
        self._next_uid += dets.size
        t.state[rows] = TENTATIVE
        t.hits[rows] = 1
        t.age[rows] = 1
        t.det_xyxy[rows] = boxes[dets]
        t.det_index[rows] = dets
        t.score[rows] = scores[dets]
        t.class_id[rows] = classes[dets]
        if feats is not None:
            # fill the whole ring with the first feature: duplicates of a real member never
            # change the nearest-neighbour distance, so no mask of empty slots is needed
            t.gallery[rows] = feats[dets][:, None, :]
            t.gallery_pos[rows] = 1 % t.budget
            t.n_features[rows] = 1
            t.last_feature[rows] = feats[dets]
        if fg is not None:
            t.fg_sum[rows] = fg[dets]
        if cfg.n_init <= 1:
            self._confirm(rows if fg is None else rows[fg[dets] >= cfg.min_foreground])

    def active_tracks(self) -> TrackedObjects:
        """Every confirmed track still alive after the last ``update``, matched in that frame
        or not (norfair's view; ``update`` returns only the matched ones). A track not matched
        has ``time_since_update`` > 0, its Kalman prediction as ``xyxy``, its last matched box
        and score as ``det_xyxy``/``score`` and ``det_index`` -1. Sorted by ``track_id``."""
        t = self.tracks
        return self._objects((t.state[:t.n] == CONFIRMED).nonzero()[0])

    def _output(self) -> TrackedObjects:
        t = self.tracks
        n = t.n
        return self._objects(((t.state[:n] == CONFIRMED)
                              & (t.time_since_update[:n] == 0)).nonzero()[0])

    def _objects(self, rows: np.ndarray) -> TrackedObjects:
        t = self.tracks
        if rows.size == 0:
            return TrackedObjects.empty()
        rows = rows[np.argsort(t.track_id[rows])]
        since = t.time_since_update[rows].astype(np.int64)
        return TrackedObjects(
            track_id=t.track_id[rows],
            xyxy=xyah_to_xyxy(t.mean[rows, :4]),
            det_xyxy=t.det_xyxy[rows],
            det_index=np.where(since == 0, t.det_index[rows], -1),
            score=t.score[rows],
            class_id=t.class_id[rows],
            time_since_update=since,
        )
