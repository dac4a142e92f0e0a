"""Property tests of the readers (hypothesis): any valid det.txt reads back exactly, and any single
bad value is an error naming the file and its line; image folders are numbered by their names."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cosmot.sources.frames import FrameGapWarning, number_images
from cosmot.sources.motchallenge import MOTFormatError, read_detections, read_seqinfo
from cosmot.sources.validation import DroppedRowsWarning

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

coord = st.floats(min_value=-500, max_value=5000, allow_nan=False).map(lambda v: round(v, 2))
size = st.floats(min_value=0.5, max_value=900).map(lambda v: round(v, 2))
score = st.floats(min_value=-50, max_value=150, allow_nan=False).map(lambda v: round(v, 4))
row = st.tuples(st.integers(1, 60), coord, coord, size, size, score, st.integers(-1, 90),
                coord, coord)


def _text(rows, layout: int, blank_every: int = 0) -> str:
    lines = []
    for i, (f, x, y, w, h, s, c, wx, wy) in enumerate(rows):
        base = [f, -1, x, y, w, h, s]
        if layout == 8:
            base.append(c)
        elif layout == 10:
            base += [wx, wy, 0]
        lines.append(",".join(str(v) for v in base))
        if blank_every and i % blank_every == 0:
            lines.append("")
    return "\n".join(lines) + "\n"


@SETTINGS
@given(rows=st.lists(row, max_size=40, unique_by=lambda r: (r[0], r[1], r[2])),
       layout=st.sampled_from([7, 8, 10]), blank_every=st.integers(0, 4))
def test_valid_files_read_back_exactly(rows, layout, blank_every, tmp_path):
    p = tmp_path / "det.txt"
    p.write_text(_text(rows, layout, blank_every))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DroppedRowsWarning)  # nothing dropped
        det = read_detections(p)
    order = sorted(range(len(rows)), key=lambda i: rows[i][0])  # stable by frame
    assert det.frames.tolist() == [rows[i][0] for i in order]
    np.testing.assert_array_equal(det.tlwh, np.array([rows[i][1:5] for i in order]).reshape(-1, 4))
    np.testing.assert_array_equal(det.scores, [rows[i][5] for i in order])
    classes = [rows[i][6] for i in order] if layout == 8 else [-1] * len(rows)
    assert det.classes.tolist() == classes


BAD = {
    "nan box": (2, "nan", "left is nan"),
    "inf score": (6, "inf", "score is inf"),
    "frame 0": (0, "0", "frame 0 <= 0"),
    "negative frame": (0, "-4", "frame -4 <= 0"),
    "fractional frame": (0, "2.5", "frame 2.5 is not a whole number"),
    "text": (4, "abc", "cannot parse"),
    "negative height": (5, "-3", "negative width or height"),
}


@SETTINGS
@given(rows=st.lists(row, min_size=1, max_size=30), where=st.data(),
       bad=st.sampled_from(sorted(BAD)), layout=st.sampled_from([7, 8, 10]))
def test_one_bad_value_is_named_by_line(rows, where, bad, layout, tmp_path):
    lines = _text(rows, layout).splitlines()
    i = where.draw(st.integers(0, len(lines) - 1))
    col, value, message = BAD[bad]
    fields = lines[i].split(",")
    fields[col] = value
    lines[i] = ",".join(fields)
    p = tmp_path / "det.txt"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(MOTFormatError) as e:
        read_detections(p)
    assert f"det.txt, row {i + 1}: " in str(e.value)
    assert message in str(e.value)


@SETTINGS
@given(rows=st.lists(row, min_size=1, max_size=30, unique_by=lambda r: (r[0], r[1], r[2])),
       length=st.integers(1, 59))
def test_rows_past_the_length_are_an_error(rows, length, tmp_path):
    p = tmp_path / "det.txt"
    p.write_text(_text(rows, 7))
    past = [i for i, r in enumerate(rows) if r[0] > length]
    if not past:
        assert len(read_detections(p, length=length)) == len(rows)
        return
    past = [i for i in past if rows[i][0] > length]
    with pytest.raises(MOTFormatError, match=rf"row {past[0] + 1}: frame {rows[past[0]][0]} is "
                                             rf"past the end of the sequence \({length} frames\)"):
        read_detections(p, length=length)


@SETTINGS
@given(rows=st.lists(row, min_size=1, max_size=20, unique_by=lambda r: (r[0], r[1], r[2])),
       dup=st.data(), zero=st.booleans())
def test_dropped_rows_are_counted_once(rows, dup, zero, tmp_path):
    lines = _text(rows, 10).splitlines()
    i = dup.draw(st.integers(0, len(lines) - 1))
    lines.append(lines[i])  # an exact duplicate, last line
    if zero:
        lines.append("1,-1,10,20,0,40,0.5,-1,-1,-1")
    p = tmp_path / "det.txt"
    p.write_text("\n".join(lines) + "\n")
    with pytest.warns(DroppedRowsWarning) as w:
        det = read_detections(p)
    assert len(w) == 1
    msg = str(w[0].message)
    assert f"dropped {1 + zero} rows" in msg
    assert len(det) == len(rows)


@SETTINGS
@given(numbers=st.sets(st.integers(0, 400), min_size=1, max_size=25),
       pad=st.integers(1, 8), prefix=st.sampled_from(["", "frame_", "img-"]))
def test_images_numbered_by_name(numbers, pad, prefix, tmp_path_factory):
    d = tmp_path_factory.mktemp("imgs")
    for k in numbers:
        (d / f"{prefix}{k:0{pad}d}.jpg").write_bytes(b"")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = number_images(d)
    shift = 1 if min(numbers) == 0 else 0
    expected = sorted(k + shift for k in numbers)
    assert [k for k, _ in got] == expected
    gaps = expected[-1] - len(expected)
    gap_warnings = [w for w in caught if issubclass(w.category, FrameGapWarning)]
    assert len(gap_warnings) == (1 if gaps else 0)
    if gaps:
        assert f"{gaps} frame numbers have no image" in str(gap_warnings[0].message)


@pytest.mark.parametrize("text, message", [
    ("name=x\nseqLength=3\n", "seqinfo.ini: not an INI file with a [Sequence] section"),
    ("[Sequence]\nseqLength=three\n", "seqinfo.ini: invalid literal"),
    ("[Sequence]\nname=a\n[Sequence]\nname=b\n", "seqinfo.ini: not an INI file"),
    ("[Other]\nx=1\n", "seqinfo.ini: no [Sequence] section"),
])
def test_seqinfo_errors_name_the_file(text, message, tmp_path):
    (tmp_path / "seqinfo.ini").write_text(text)
    with pytest.raises(MOTFormatError) as e:
        read_seqinfo(tmp_path)
    assert message in str(e.value) and str(tmp_path) in str(e.value)
