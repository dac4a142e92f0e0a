"""The package's shape: one import name, imports pointing one way, a light import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import cosmot

ROOT = Path(__file__).resolve().parents[1]

#: what the tracker core may import besides the standard library and itself
TRACKER_THIRD_PARTY = {"numpy", "scipy", "lap", "filterpy"}
STDLIB = set(sys.stdlib_module_names)


def imports_of(path: Path) -> list[tuple[int, str, int]]:
    """(line, absolute-or-relative module name, relative level) of every import in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, 0) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.lineno, node.module or "", node.level))
    return out


def wrong_way_imports(folder: str, allowed_top: set[str], forbidden_prefixes: tuple[str, ...],
                      leaves: tuple[str, ...] = ()) -> list[str]:
    """Imports of ``folder``'s modules that reach outside its package, name a forbidden
    prefix (unless it is one of the neutral ``leaves``) or a third party not allowed."""
    bad = []
    for path in sorted((ROOT / folder).glob("*.py")):
        for line, name, level in imports_of(path):
            where = f"{path.relative_to(ROOT)}:{line} imports {'.' * level}{name}"
            if level > 1:
                bad.append(where + " (reaches outside its package)")
            elif level == 0:
                top = name.split(".")[0]
                if name in leaves:
                    continue
                if name.startswith(forbidden_prefixes) or top in ("tools", "tracker",
                                                                   "appearance"):
                    bad.append(where)
                elif top == "cosmot" or top in STDLIB or top in allowed_top:
                    continue
                else:
                    bad.append(where + " (not an allowed dependency)")
    return bad


def test_tracker_core_imports_only_numpy_scipy_lap_filterpy():
    assert wrong_way_imports("tracker", TRACKER_THIRD_PARTY, ("cosmot",)) == []


def test_appearance_imports_neither_tracker_nor_application():
    allowed = {"numpy", "scipy", "torch", "cv2", "onnxruntime", "onnx", "platformdirs",
               "tqdm", "matplotlib", "pytorch_metric_learning", "metric_learn", "sklearn"}
    assert wrong_way_imports("appearance", allowed, ("cosmot",), leaves=("cosmot.runtime",)) == []


def test_runtime_is_a_neutral_leaf():
    """cosmot.runtime (cores, checksums, thread limits) imports only the standard library, so
    both libraries and every stage may use it."""
    bad = [f"tools/runtime.py:{line} imports {name}"
           for line, name, level in imports_of(ROOT / "tools" / "runtime.py")
           if level or name.split(".")[0] not in STDLIB]
    assert bad == []


#: stage -> the cosmot stages it must not import (docs/architecture.md, "Import direction")
STAGE_RULES = {
    "sources": ("cosmot.pipeline", "cosmot.integrations", "cosmot.cli", "cosmot.detectors",
                "cosmot.evaluation"),
    "detectors": ("cosmot.pipeline", "cosmot.integrations", "cosmot.cli", "cosmot.writers",
                  "cosmot.evaluation", "cosmot.appearance"),
    "writers": ("cosmot.pipeline", "cosmot.integrations", "cosmot.cli", "cosmot.detectors",
                "cosmot.evaluation"),
    "evaluation": ("cosmot.pipeline", "cosmot.integrations", "cosmot.cli", "cosmot.detectors",
                   "cosmot.writers"),
    "pipeline": ("cosmot.integrations", "cosmot.cli"),
    "scripts": ("cosmot.cli",),
}


def test_command_line_modules_have_no_import_cycle():
    """cli modules import each other one way only (batch no longer calls back into track,
    mot no longer into main): counted over every import, lazy ones included."""
    graph = {}
    for path in sorted((ROOT / "tools" / "cli").rglob("*.py")):
        rel = path.relative_to(ROOT / "tools").with_suffix("")
        name = "cosmot." + ".".join(rel.parts).removesuffix(".__init__")
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                graph[name] |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                graph[name] |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    for name in graph:
        graph[name] = {m for m in graph[name] if m in graph and m != name}

    def reaches(start, target, seen=()):
        return any(m == target or (m not in seen and reaches(m, target, (*seen, m)))
                   for m in graph[start])

    cycles = sorted(n for n in graph if reaches(n, n))
    assert cycles == []


def test_no_library_module_imports_the_test_data_generators():
    """cosmot.testing (synthetic scenes and videos) serves tests and scripts only."""
    bad = []
    for folder in ("tracker", "appearance", "tools"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel.parts[:2] in (("tools", "testing"), ("tools", "scripts")):
                continue
            bad += [f"{rel}:{line} imports {name}" for line, name, level in imports_of(path)
                    if name.startswith("cosmot.testing") or (level and "testing" in name)]
    assert bad == []


@pytest.mark.parametrize("stage", sorted(STAGE_RULES))
def test_application_stages_import_downwards(stage):
    """Lower stages never import higher ones; nothing but the command line imports cosmot.cli
    (scripts call the library)."""
    bad = []
    for path in sorted((ROOT / "tools" / stage).rglob("*.py")):
        for line, name, _ in imports_of(path):
            if name.startswith(STAGE_RULES[stage]):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert bad == []


def test_wrong_way_import_is_caught(tmp_path, monkeypatch):
    """The check itself: a tracker module importing the application fails it."""
    fake = tmp_path / "tracker"
    fake.mkdir()
    (fake / "bad.py").write_text("import numpy\nfrom cosmot.pipeline import track_stream\n"
                                 "from ..appearance import load_encoder\nimport torch\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    bad = wrong_way_imports("tracker", TRACKER_THIRD_PARTY, ("cosmot",))
    assert len(bad) == 3 and "bad.py:2" in bad[0] and "outside" in bad[1] and "torch" in bad[2]


def test_public_api_resolves():
    for name in cosmot.__all__:
        assert getattr(cosmot, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cosmot.nope  # noqa: B018
    assert cosmot.Tracker is cosmot.tracker.Tracker


def run_python(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT / "tests")
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_import_is_light_and_sets_no_environment():
    out = run_python(
        "import os, sys; before = dict(os.environ); import cosmot, cosmot.cli; "
        "heavy = [m for m in ('torch', 'cv2', 'onnxruntime', 'trackeval', 'matplotlib', "
        "'numpy') if m in sys.modules]; print(heavy, dict(os.environ) == before)")
    assert out.strip() == "[] True"


def test_command_line_parser_loads_no_training_or_evaluation_stack():
    """Every ``cosmot`` call builds the parser of all subcommands: that must not import torch,
    TrackEval, matplotlib or filterpy's scipy.stats (seen: 2 s added to each call)."""
    out = run_python(
        "import sys; from cosmot.cli.main import build_parser; build_parser(); "
        "print([m for m in ('torch', 'trackeval', 'matplotlib', 'filterpy', 'scipy.stats') "
        "if m in sys.modules])")
    assert out.strip() == "[]"


def test_train_help_lists_every_loss():
    """``--loss`` names are checked when training starts (no torch at parse time); its help
    must still list each of them."""
    pytest.importorskip("torch")
    from cosmot.appearance.criterion import LOSSES
    from cosmot.cli.main import build_parser

    parser = build_parser()
    reid = next(a for a in parser._subparsers._group_actions[0].choices["reid"]._actions
                if a.dest == "reid_command" or getattr(a, "choices", None)
                and "train" in (a.choices or {}))
    help_text = reid.choices["train"].format_help()
    for name in LOSSES:
        assert name in help_text


def test_default_encoder_and_tracker_run_without_torch():
    """The core path (tracker + shipped encoder through ONNX Runtime) never imports torch."""
    out = run_python(
        "import sys, numpy as np\n"
        "from cosmot import Tracker, load_encoder\n"
        "enc = load_encoder('default')\n"
        "frame = np.zeros((200, 200, 3), np.uint8)\n"
        "boxes = np.array([[10., 10., 60., 150.]])\n"
        "tr = Tracker()\n"
        "for _ in range(4): out = tr.update(boxes, np.ones(1), enc.embed(frame, boxes))\n"
        "print(type(enc).__name__, len(out), 'torch' in sys.modules)")
    assert out.strip() == "OnnxEncoder 1 False"


def test_missing_extra_names_the_install_command():
    from cosmot.cli.main import missing_extra_message

    msg = missing_extra_message(ModuleNotFoundError("No module named 'trackeval'",
                                                    name="trackeval"))
    assert msg.endswith("pip install 'cosmot[eval]'")
    assert missing_extra_message(ModuleNotFoundError("x", name="torch.nn")).endswith(
        "'cosmot[train]'")
    assert missing_extra_message(ModuleNotFoundError("x", name="somethingelse")) is None


def test_cache_and_data_folders_follow_the_environment(monkeypatch, tmp_path):
    from cosmot.paths import cache_dir, data_dir

    monkeypatch.setenv("COSMOT_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("COSMOT_DATA", str(tmp_path / "d"))
    assert cache_dir("reid") == tmp_path / "c" / "reid"
    assert data_dir() == tmp_path / "d"
    monkeypatch.delenv("COSMOT_CACHE")
    assert "cosmot" in cache_dir().parts  # the platform's user cache folder, not the checkout
    assert not cache_dir().is_relative_to(ROOT)


def test_command_line_without_torch(tmp_path):
    """With torch unavailable, ``cosmot track`` runs (shipped encoder through ONNX Runtime) and a
    training command fails with the extra to install, not a traceback."""
    clip = ROOT / "sample_videos" / "PETS09-S2L1-clip"
    code = (
        "import sys\n"
        "class NoTorch:  # as if torch were not installed\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "from cosmot.cli import main\n"
        f"rc = main(['track', {str(clip)!r}, '--detections', {str(clip / 'det' / 'det.txt')!r}, "
        f"'--max-frames', '10', '--out-mot', {str(tmp_path / 'r.txt')!r}, '--no-progress'])\n"
        "rc2 = main(['reid', 'train', '--crops', 'x.npz', '--out', 'o'])\n"
        "print(rc, rc2, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert out.stdout.strip().splitlines()[-1] == "0 1 False", out.stderr
    assert "pip install 'cosmot[train]'" in out.stderr
    assert len((tmp_path / "r.txt").read_text().splitlines()) > 10
