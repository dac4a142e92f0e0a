"""Many inputs: expansion of the arguments, atomic outputs, worker processes, a failing input,
``--resume``, Ray (marked ``ray``: a local cluster takes ~20 s to start on the 2-core machine),
and the background frame decoder."""

from __future__ import annotations

import re
import threading
import time

import numpy as np
import pytest

from bench_batch import cut_sequence
from cosmot.cli.main import main
from cosmot.pipeline.batch import (BatchJob, JobResult, expand_inputs, partial_path, run_job,
                                   summary_table, threads_per_worker, unique_names)
from cosmot.pipeline.prefetch import prefetch


# ---------------------------------------------------------------------------- inputs
def test_expand_inputs_globs_folders_and_list_files(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / "seqs" / name).mkdir(parents=True)
        (tmp_path / "seqs" / name / "seqinfo.ini").write_text("")
    (tmp_path / "seqs" / "notes").mkdir()  # not an input: left out of the folder's inputs
    (tmp_path / "list.txt").write_text("# two of them\nseqs/b\n\nseqs/c\n")
    is_seq = lambda p: (p / "seqinfo.ini").is_file()  # noqa: E731
    no_file = lambda p: False  # noqa: E731
    seqs = tmp_path / "seqs"
    assert expand_inputs([str(seqs)], is_seq, no_file) == [str(seqs / n) for n in "abc"]
    assert expand_inputs([str(seqs / "[ab]")], is_seq, no_file) == [str(seqs / "a"),
                                                                    str(seqs / "b")]
    # list entries are relative to the list file; duplicates are dropped, order kept
    assert expand_inputs([str(seqs / "c"), str(tmp_path / "list.txt")], is_seq, no_file) == [
        str(seqs / "c"), str(seqs / "b")]
    with pytest.raises(FileNotFoundError, match="matches nothing"):
        expand_inputs([str(tmp_path / "zz*")], is_seq, no_file)
    with pytest.raises(FileNotFoundError, match="no inputs"):
        expand_inputs([str(seqs / "notes")], is_seq, no_file)
    assert unique_names(["x/a.mp4", "y/a.mp4", "b.mp4"], lambda t: t.split("/")[-1][:-4]) == [
        "a", "a-2", "b"]


def test_threads_per_worker_shares_the_cores():
    assert threads_per_worker(1, cores=2) == 2
    assert threads_per_worker(2, cores=2) == 1
    assert threads_per_worker(4, cores=2) == 1
    assert threads_per_worker(3, cores=16) == 5


# ---------------------------------------------------------------------------- atomic outputs
def _write_then(job, partial, options):
    with open(partial[0], "w") as f:
        f.write("half")
    if options["fail"]:
        raise RuntimeError("decoder crashed at frame 7")
    with open(partial[0], "a") as f:
        f.write(" and whole")
    return {"frames": 7, "ids": 2}


@pytest.mark.parametrize("fail", [False, True])
def test_outputs_appear_only_when_the_input_is_done(tmp_path, fail):
    final = tmp_path / "out" / "seq.txt"
    assert partial_path(final) == tmp_path / "out" / ".seq.partial.txt"
    r = run_job(_write_then, BatchJob("seq", "in", (str(final),)), {"fail": fail})
    assert not partial_path(final).exists()
    if fail:
        assert r.status == "failed" and not final.exists()
        assert r.error == "RuntimeError: decoder crashed at frame 7"
    else:
        assert r.status == "done" and final.read_text() == "half and whole"
        assert (r.frames, r.ids) == (7, 2)
    table = summary_table([r, JobResult("other", "skipped")], wall_seconds=2.0)
    assert "seq" in table and f"1 skipped, {int(fail)} failed" in table


# ---------------------------------------------------------------------------- cosmot mot
@pytest.fixture(scope="module")
def short_sequences(tmp_path_factory, mot_dir):
    """Four short inputs (halves of two dev sequences, ~90 frames each) and a corrupt one."""
    root = tmp_path_factory.mktemp("inputs")
    seqs = []
    for name, n in (("KITTI-17", 145), ("TUD-Stadtmitte", 179)):
        seqs.append(cut_sequence(mot_dir / name, root / f"{name}-a", 1, n // 2, f"{name}-a"))
        seqs.append(cut_sequence(mot_dir / name, root / f"{name}-b", n // 2 + 1, n,
                                 f"{name}-b"))
    bad = cut_sequence(mot_dir / "KITTI-17", root / "broken", 1, 20, "broken")
    (bad / "det-frcnn" / "det.txt").write_text("1,-1,10,10,five,20,0.9\n")
    return seqs, bad


def _mot(seqs, out, *extra):
    return main(["mot", *map(str, seqs), "--det", "det-frcnn", "--min-score", "0.5",
                 "--encoder", "none", "--out", str(out), *extra])


def test_workers_give_the_serial_bytes_and_a_broken_input_fails_alone(short_sequences,
                                                                       tmp_path, capsys):
    seqs, bad = short_sequences
    assert _mot(seqs, tmp_path / "serial") == 0
    capsys.readouterr()
    assert _mot([*seqs, bad], tmp_path / "w2", "--workers", "2") == 1
    err = capsys.readouterr().err
    assert "broken: failed: MOTFormatError" in err and "4 done, 0 skipped, 1 failed" in err
    names = sorted(p.name for p in (tmp_path / "serial").iterdir())
    assert len(names) == 4
    for name in names:
        assert (tmp_path / "w2" / name).read_bytes() == (tmp_path / "serial" / name).read_bytes()
    # nothing left of the failed input, not even its temporary file
    assert sorted(p.name for p in (tmp_path / "w2").iterdir()) == names


def test_resume_skips_finished_inputs(short_sequences, tmp_path, capsys):
    seqs, _ = short_sequences
    out = tmp_path / "res"
    assert _mot(seqs[:2], out) == 0
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    # an interrupted earlier parallel run leaves only a temporary file: that input is run again
    # (parallel runs write atomically; one sequence at a time the outputs are written in place
    # and --checkpoint-every makes them resumable: tests/test_tracker_state.py)
    (out / ".TUD-Stadtmitte-a.partial.txt").write_text("1,1,0,0,1,1,1,-1,-1,-1\n")
    capsys.readouterr()
    assert _mot(seqs[:3], out, "--resume", "--workers", "2") == 0
    err = capsys.readouterr().err
    assert "1 done, 2 skipped, 0 failed" in err
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name in stamps} == stamps
    assert sorted(p.name for p in out.iterdir()) == sorted([*stamps, "TUD-Stadtmitte-a.txt"])


@pytest.mark.ray
def test_ray_local_cluster_gives_the_serial_bytes(short_sequences, tmp_path, capsys):
    pytest.importorskip("ray")
    seqs, bad = short_sequences
    assert _mot(seqs, tmp_path / "serial") == 0
    assert _mot([*seqs, bad], tmp_path / "ray", "--ray", "--workers", "2") == 1
    err = capsys.readouterr().err
    assert "broken: failed: MOTFormatError" in err
    for p in (tmp_path / "serial").iterdir():
        assert (tmp_path / "ray" / p.name).read_bytes() == p.read_bytes()


# ---------------------------------------------------------------------------- cosmot track
def test_track_many_inputs_to_an_out_dir(pets_clip, synthetic_seq, tmp_path, capsys):
    single = tmp_path / "single.txt"
    common = ["--detector", "bgsub", "--encoder", "none", "--no-progress", "--max-frames", "30"]
    video = sorted(synthetic_seq.glob("*.mp4"))[0]
    assert main(["track", str(video), *common, "--out-mot", str(single)]) == 0
    assert main(["track", str(video), str(pets_clip), *common, "--out-dir",
                 str(tmp_path / "many"), "--outputs", "mot,json", "--workers", "2"]) == 0
    err = capsys.readouterr().err
    assert "2 done, 0 skipped, 0 failed" in err
    assert (tmp_path / "many" / f"{video.stem}.txt").read_bytes() == single.read_bytes()
    assert (tmp_path / "many" / f"{pets_clip.name}.jsonl").is_file()
    assert main(["track", str(video), str(pets_clip), *common, "--out-dir",
                 str(tmp_path / "many"), "--outputs", "mot,json", "--resume"]) == 0
    assert "0 done, 2 skipped, 0 failed" in capsys.readouterr().err
    assert main(["track", str(video), str(pets_clip), *common, "--out-mot", "x.txt"]) == 1
    assert "--out-dir" in capsys.readouterr().err


# ---------------------------------------------------------------------------- prefetch
def test_prefetch_keeps_order_and_raises_where_the_source_failed():
    assert list(prefetch(range(100), depth=3)) == list(range(100))
    assert list(prefetch(iter([]), depth=2)) == []

    def broken():
        yield 1
        yield 2
        raise OSError("frame 3: cannot be read")

    got = []
    with pytest.raises(OSError, match="frame 3"):
        for x in prefetch(broken(), depth=4):
            got.append(x)
    assert got == [1, 2]


def test_prefetch_runs_ahead_boundedly_and_closing_stops_the_source():
    produced, closed = [], threading.Event()

    def source():
        try:
            for k in range(1000):
                produced.append(k)
                yield k
        finally:
            closed.set()

    it = prefetch(source(), depth=2)
    assert next(it) == 0
    time.sleep(0.2)
    assert len(produced) <= 4  # the item handed over, the queue (2), one waiting to be put
    it.close()
    assert closed.wait(5.0)
    assert len(produced) < 10


def test_prefetch_hands_over_an_error_of_iter():
    class Broken:
        def __iter__(self):
            raise OSError("cannot open the stream")

    with pytest.raises(OSError, match="cannot open the stream"):
        list(prefetch(Broken(), 2))  # it used to wait forever


def test_track_checks_batch_options_for_one_input_too(pets_clip, tmp_path, capsys):
    assert main(["track", str(pets_clip), "--prefetch", "-1", "--out-mot",
                 str(tmp_path / "r.txt")]) == 1
    assert "--prefetch -1: must be >= 0" in capsys.readouterr().err


def test_prefetch_zero_is_the_plain_iterator():
    src = iter([np.zeros(1)])
    assert prefetch(src, 0) is src


def test_track_a_folder_of_videos_and_a_list_file(pets_clip, synthetic_seq, tmp_path, capsys):
    """A folder holding video files, and a .txt list of them, expand to one input per video
    (an archive of videos is the batch case: user kind 4)."""
    archive = tmp_path / "archive"
    archive.mkdir()
    for src in (synthetic_seq / "synthetic-crossing.mp4", pets_clip / "PETS09-S2L1-clip.mp4"):
        (archive / src.name).symlink_to(src)
    (archive / "notes.md").write_text("not a video\n")
    listed = tmp_path / "videos.txt"
    listed.write_text("# one per line, relative to this file\narchive/synthetic-crossing.mp4\n")
    common = ["--detector", "bgsub", "--encoder", "none", "--no-progress", "--max-frames", "10"]
    assert main(["track", str(archive), *common, "--out-dir", str(tmp_path / "a")]) == 0
    assert "2 done, 0 skipped, 0 failed" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "PETS09-S2L1-clip.txt", "synthetic-crossing.txt"]
    assert main(["track", str(listed), *common, "--out-dir", str(tmp_path / "b")]) == 0
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["synthetic-crossing.txt"]
    assert ((tmp_path / "b" / "synthetic-crossing.txt").read_bytes()
            == (tmp_path / "a" / "synthetic-crossing.txt").read_bytes())


def test_cores_follow_cosmot_threads_and_are_split_when_the_detector_runs_ahead(monkeypatch):
    from cosmot.runtime import available_cores
    from cosmot.pipeline.video import thread_split

    monkeypatch.delenv("COSMOT_THREADS", raising=False)
    cores = available_cores()
    monkeypatch.setenv("COSMOT_THREADS", "1")
    assert available_cores() == 1  # a batch worker's share
    monkeypatch.setenv("COSMOT_THREADS", str(cores + 5))
    assert available_cores() == cores  # never above the cores the process may use
    monkeypatch.setenv("COSMOT_THREADS", "zero")
    with pytest.raises(ValueError, match="COSMOT_THREADS='zero'"):
        available_cores()
    assert thread_split(2, cores=2) == (1, 1)
    assert thread_split(2, cores=1) == (1, 1)
    assert thread_split(2, cores=16) == (8, 8)
    assert thread_split(2, cores=3) == (1, 2)
    assert thread_split(0, cores=4) == (4, 4)


def test_warnings_of_each_input_reach_the_user(cut_video, tmp_path, capsys):
    """In a batch the inputs' own stderr is not shown (or is a worker's): their warnings (here
    a truncated video) travel back with the result and are printed with the input's name."""
    full, cut = cut_video
    assert main(["track", str(full), str(cut), "--detector", "bgsub", "--encoder", "none",
                 "--no-progress", "--out-dir", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "cut: warning: " in err and "of the 40 its header announces" in err
    assert "full: warning" not in err
    result = run_job(lambda job, partial, options: warnings_emitted(), BatchJob("x", "in", ()),
                     {})
    assert result.status == "done" and result.warnings == ("first", "second")


def warnings_emitted() -> dict:
    import warnings

    for text in ("first", "second", "first"):  # said once each, in order
        warnings.warn(text)
    return {}


@pytest.mark.ray
def test_sigterm_to_a_ray_batch_prints_the_summary_and_exits_143(short_sequences, tmp_path):
    """ray.init replaced the SIGTERM handler (sys.exit, Ray's own dump, no summary, exit 1):
    a stopped Ray batch now ends like a local one: the summary of what finished, the rest
    marked interrupted, exit 143."""
    pytest.importorskip("ray")
    import os
    import signal
    import subprocess
    import sys

    seqs, _ = short_sequences
    out = tmp_path / "out"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from cosmot.cli import main; sys.exit(main())",
         "mot", *map(str, seqs), "--det", "det-frcnn", "--out", str(out), "--ray", "--workers",
         "1", "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    end = time.monotonic() + 300
    while time.monotonic() < end and proc.poll() is None:
        if out.is_dir() and any(p.suffix == ".txt" and not p.name.startswith(".")
                                for p in out.iterdir()):
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    err = err.decode()
    assert proc.returncode == 143, err[-2000:]
    assert "interrupted (signal 15)" in err and "The process receives a SIGTERM" not in err
    assert re.search(r"stopped after [1-3] of 4 inputs", err), err[-2000:]
    assert re.search(r"[1-3] done, 0 skipped, 0 failed, [1-3] interrupted", err), err[-2000:]
    finished = [p for p in out.iterdir() if p.suffix == ".txt" and not p.name.startswith(".")]
    assert 1 <= len(finished) <= 3
