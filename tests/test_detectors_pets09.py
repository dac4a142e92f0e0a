"""The HOG calibration on real data it was not fitted on (PETS09-S2L1, a few frames): calibrated
boxes fit the annotated pedestrians, raw windows do not."""

import pytest

from cosmot.evaluation.detection_metrics import PRCurve, gt_by_frame
from cosmot.detectors.hog import HOGPeopleDetector, opencv_default_people
from cosmot.sources.motchallenge import Sequence, read_ground_truth


@pytest.mark.slow
def test_calibrated_hog_fits_pedestrians_raw_windows_do_not(mot_data):
    seq = Sequence(mot_data / "PETS09-S2L1")
    gts = gt_by_frame(read_ground_truth(seq.gt_path))
    picks = {50, 250, 450, 650}
    hog = HOGPeopleDetector()
    raw, cal = [], []
    for k, image in seq.frames():
        if k in picks:
            g = gts[k]
            d = hog(image)
            cal.append((d.boxes_xyxy, d.scores, *g))
            d = opencv_default_people(image)
            raw.append((d.boxes_xyxy, d.scores, *g))
        if k >= max(picks):
            break
    r_raw, _ = PRCurve.from_frames(raw).recall_precision()
    r_cal, p_cal = PRCurve.from_frames(cal).recall_precision()
    assert r_raw < 0.1
    assert r_cal > 0.5 and p_cal > 0.8
