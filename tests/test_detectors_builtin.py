"""Built-in detectors (HOG with calibration, background subtraction, det.txt playback), the
callable wrapper and the factory."""

import numpy as np
import pytest

from cosmot.detectors import (DEFAULT_DETECTOR, CallableDetector, FrameDetections,
                             check_detections, create_detector)
from cosmot.detectors.background_subtraction import BackgroundConfig, BackgroundSubtractionDetector
from cosmot.detectors.det_file import DetectionFileDetector
from cosmot.detectors.hog import (CALIBRATED, WINDOW, BoxCalibration, HOGConfig,
                                 HOGPeopleDetector, ScoreCalibration)
from cosmot.testing.synthetic_video import SceneConfig, SyntheticScene, Walker
from cosmot.tracker.geometry import iou_matrix


def test_box_calibration_hand_worked():
    cal = BoxCalibration(center_x=0.5, center_y=0.5, width=0.5, height=0.75)
    # window x=10, y=20, 64 x 128: centre (42, 84), person 32 x 96
    assert np.allclose(cal.apply(np.array([[10, 20, 64, 128]])), [[26, 36, 58, 132]])
    assert np.allclose(BoxCalibration().apply(np.array([[10, 20, 64, 128]])), [[10, 20, 74, 148]])


def test_fitted_calibration_is_used_and_consistent():
    box = CALIBRATED.box
    assert box != BoxCalibration()  # the default detector does not return raw windows
    assert 0.3 < box.width < 0.8 and 0.6 < box.height < 0.95
    assert CALIBRATED.upscale == pytest.approx(box.height * WINDOW[1]
                                               / CALIBRATED.min_person_height)
    assert HOGConfig(min_person_height=0).upscale == 1.0


def test_score_calibration_round_trip():
    s = ScoreCalibration(slope=3.0, intercept=-4.0)
    assert s.apply(np.array([4 / 3]))[0] == pytest.approx(0.5)
    assert s.margin(0.8) == pytest.approx((np.log(4.0) + 4.0) / 3.0)
    assert s.apply(np.array([s.margin(0.3)]))[0] == pytest.approx(0.3)


def test_hog_call_applies_calibration_threshold_and_nms(monkeypatch):
    cfg = HOGConfig(min_person_height=0, min_score=0.5, nms_iou=0.3,
                    box=BoxCalibration(0.5, 0.5, 0.5, 0.75),
                    score=ScoreCalibration(slope=2.0, intercept=0.0))
    det = HOGPeopleDetector(cfg)
    windows = np.array([[10, 20, 64, 128],    # margin 1.0 -> score sigmoid(2) = 0.881
                        [12, 20, 64, 128],    # same person, lower margin: suppressed
                        [200, 20, 64, 128],   # margin -0.5 -> 0.269 < 0.5: dropped
                        [300, 40, 32, 64]], float)  # a smaller window, margin 2
    margins = np.array([1.0, 0.5, -0.5, 2.0])
    monkeypatch.setattr(det, "windows", lambda frame: (windows, margins))
    out = det(np.zeros((10, 10, 3), np.uint8))
    s = 1 / (1 + np.exp(-np.array([4.0, 2.0])))
    assert np.allclose(out.scores, s)
    assert np.allclose(out.boxes_xyxy, [[308, 48, 324, 96], [26, 36, 58, 132]])
    assert out.classes.tolist() == [0, 0]


def test_hog_finds_figures_on_a_synthetic_frame():
    scene = SyntheticScene(SceneConfig(width=320, height=180, frames=1, people=4, seed=2))
    image, gt = scene.render(1)
    out = HOGPeopleDetector(HOGConfig(min_person_height=40, min_score=0.3,
                                      box=CALIBRATED.box, score=CALIBRATED.score))(image)
    assert out.boxes_xyxy.shape[1] == 4 and len(out.scores) == len(out)
    assert ((out.scores >= 0.3) & (out.scores <= 1)).all()


def test_hog_config_errors_name_the_field():
    with pytest.raises(ValueError, match="min_person_height"):
        HOGConfig(min_person_height=2)
    with pytest.raises(ValueError, match="win_stride"):
        HOGConfig(win_stride=12)
    with pytest.raises(ValueError, match="BoxCalibration.width"):
        BoxCalibration(width=0)


def test_background_subtraction_finds_walkers():
    # two figures walk in from outside the frame (the model learns an empty scene first),
    # one on a far lane, one on a near lane, in opposite directions
    scene = SyntheticScene(SceneConfig(width=320, height=180, frames=60, people=0, seed=1))
    look = dict(skin=(150, 170, 200), shirt=(40, 40, 200), shirt2=(200, 200, 40), pattern=1,
                trousers=(60, 30, 30), stride=0.1, start=0)
    scene.walkers = [Walker(track_id=1, foot_y=120.0, x0=-30.0, speed=3.0, **look),
                     Walker(track_id=2, foot_y=170.0, x0=350.0, speed=-4.0, **look)]
    det = BackgroundSubtractionDetector(BackgroundConfig(work_height=0, min_height=20,
                                                         warmup=5))
    hits = total = 0
    for k, image, gt in scene.frames():
        out = det(image)
        g = gt[(gt[:, 1] > 0) & (gt[:, 1] + gt[:, 3] < 320) & (gt[:, 5] == 1.0)]  # wholly in
        g = np.c_[g[:, 1:3], g[:, 1:3] + g[:, 3:5]]
        total += len(g)
        if len(out) and len(g):
            hits += int((iou_matrix(g, out.boxes_xyxy).max(axis=1) >= 0.5).sum())
    assert total > 40 and hits / total > 0.8
    det.reset()
    assert det.frames_seen == 0


def test_background_warmup_reports_nothing():
    det = BackgroundSubtractionDetector(BackgroundConfig(warmup=3))
    rng = np.random.default_rng(0)
    for _ in range(3):
        assert len(det(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))) == 0


def test_background_config_errors_name_the_field():
    with pytest.raises(ValueError, match="method"):
        BackgroundConfig(method="gmm")
    with pytest.raises(ValueError, match="close_height"):
        BackgroundConfig(close_height=0)
    with pytest.raises(ValueError, match="min_height"):
        BackgroundConfig(min_height=50, max_height=40)


def test_detection_file_plays_back_by_frame(tmp_path):
    path = tmp_path / "det.txt"
    path.write_text("1,-1,10,20,30,60,0.9\n"
                    "1,-1,100,20,30,60,0.2\n"
                    "3,-1,50,50,20,40,0.8\n"
                    "3,-1,5,5,0,40,0.8\n")  # no width: dropped
    with pytest.warns(UserWarning, match=r"dropped 1 rows: 1 boxes with zero width or height "
                                          r"\(row 4\)"):
        det = DetectionFileDetector(path)
    f1, f2, f3, f4 = (det(None) for _ in range(4))
    assert np.allclose(f1.boxes_xyxy, [[10, 20, 40, 80], [100, 20, 130, 80]])
    assert np.allclose(f1.scores, [0.9, 0.2]) and f1.classes.tolist() == [-1, -1]
    assert len(f2) == 0 and len(f4) == 0
    assert np.allclose(f3.boxes_xyxy, [[50, 50, 70, 90]])
    det.reset()
    assert len(det(None)) == 2
    with pytest.warns(UserWarning, match="dropped 1 rows"):
        assert len(DetectionFileDetector(path, min_score=0.5)(None)) == 1


def test_factory_names_and_errors(tmp_path):
    assert type(create_detector("auto")) is type(create_detector(DEFAULT_DETECTOR))
    assert isinstance(create_detector("bgsub", {"method": "knn"}), BackgroundSubtractionDetector)
    assert create_detector("hog", {"min_person_height": "80"}).config.min_person_height == 80
    with pytest.raises(ValueError, match="unknown detector 'yolo'.*auto, yolox, hog, bgsub"):
        create_detector("yolo")
    with pytest.raises(ValueError, match="'minscore' is not a field of HOGConfig"):
        create_detector("hog", {"minscore": "0.5"})
    with pytest.raises(ValueError, match="min_score"):
        create_detector("hog", {"min_score": "7"})


def test_callable_detector_validates_output():
    def good(frame):
        return [[0, 0, 10, 20], [5, 5, 5, 9]], [0.9, 0.8], None  # second box has no area

    out = create_detector(good)(np.zeros((4, 4, 3), np.uint8))
    assert isinstance(out, FrameDetections) and len(out) == 1
    assert out.classes.tolist() == [-1]
    with pytest.raises(ValueError, match="detector 'bad'.*3 scores for 2 boxes"):
        def bad(frame):
            return np.zeros((2, 4)), np.zeros(3), np.zeros(2)
        CallableDetector(bad)(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="shape \\(2, 3\\)"):
        check_detections((np.zeros((2, 3)), np.zeros(2), None))
    with pytest.raises(ValueError, match="not callable"):
        CallableDetector(42)


def test_a_detector_added_to_the_registry_is_known_everywhere(monkeypatch, pets_clip, tmp_path):
    """Adding a detector is one REGISTRY entry: create_detector makes it, cosmot track runs
    it by name, and its kind's flags decide the options (threads, size/classes, resume)."""
    import numpy as np

    from cosmot import detectors
    from cosmot.cli.main import main
    from cosmot.detectors import DetectorKind, FrameDetections, create_detector, takes_threads

    def make(options):
        return lambda frame: FrameDetections(np.array([[10.0, 10, 40, 90]]), np.array([0.9]),
                                             np.array([0]))

    kind = DetectorKind("corner", "one box in the corner", make, "-", resumable=False)
    monkeypatch.setitem(detectors.REGISTRY, "corner", kind)
    assert len(create_detector("corner")(np.zeros((100, 100, 3), np.uint8))) == 1
    assert not takes_threads("corner") and takes_threads("yolox")
    out = tmp_path / "t.txt"
    assert main(["track", str(pets_clip), "--detector", "corner", "--encoder", "none",
                 "--max-frames", "5", "--out-mot", str(out), "--no-progress"]) == 0
    assert out.read_text().count("\n") >= 2  # confirmed after n_init frames
    assert main(["track", str(pets_clip), "--detector", "corner", "--detector-size", "640",
                 "--out-mot", str(out)]) == 1  # not a learned detector
    assert main(["track", str(pets_clip), "--detector", "corner", "--checkpoint-every", "5",
                 "--out-mot", str(out)]) == 1  # not resumable
