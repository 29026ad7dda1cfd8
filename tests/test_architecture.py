"""The package faces: thin, and exporting exactly the documented API."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "v2m"

#: The documented public API of each stage's package face.
API = {
    "v2m.analysis": {
        "analyze", "colour_stats", "motion_level", "valence_arousal",
        "remove_key_frame_pulse", "visual_beats", "visual_tempo", "CUT_THRESHOLD",
    },
    "v2m.projection": {
        "project", "choose_mode", "MODES", "Projection", "solve_beat_grid", "BeatGrid",
        "content_seed", "check_controls", "Controls",
    },
    "v2m.rendering": {
        "find_soundfont", "render", "render_to_file", "copy_audio", "write_audio", "Rendered",
        "RenderInfo", "SoundFontChoice", "MidiFileSource", "master", "true_peak_dbtp",
        "integrated_loudness", "db_to_gain", "gain_to_db", "TARGET_LUFS", "TRUE_PEAK_DBTP",
    },
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(API))
def test_exported_members(name):
    mod = importlib.import_module(name)
    assert set(mod.__all__) == API[name]
    for member in mod.__all__:
        assert hasattr(mod, member), member
        obj = getattr(mod, member)
        if callable(obj) and not isinstance(obj, type):
            assert obj.__doc__, f"{name}.{member} has no docstring"


@pytest.mark.parametrize("package", ["analysis", "projection", "rendering"])
def test_faces_are_thin(package):
    """A face re-exports; the stage's code lives in modules named for what they do."""
    face = (SRC / package / "__init__.py").read_text().splitlines()
    assert len(face) <= 60
    assert not any(line.startswith(("def ", "class ")) for line in face)


def test_the_renderer_takes_a_score_and_runs_go_through_the_backends():
    """Stage 4 does not do stage 3: rendering never composes; score, render-cue and the app
    make their soundtrack by one route (``make_soundtrack``: the backend registry's
    ``render_file``, then the dialogue-first mix)."""
    import re

    from v2m.cuesheet import make_cue
    from v2m.errors import ParameterError
    from v2m.rendering import render

    for f in (SRC / "rendering").glob("*.py"):
        assert not re.search(r"import [^\n]*\bcompose\b", f.read_text()), f
    with pytest.raises(ParameterError, match="compose the cue sheet first"):
        render(make_cue(duration_s=2.0))
    pipeline = (SRC / "pipeline.py").read_text()
    assert pipeline.count(".render_file(") == 1 and "render_to_file(" not in pipeline
    app = (SRC / "app" / "_jobs.py").read_text()
    assert "make_soundtrack(" in app and "render_to_file(" not in app
    assert "mix_dialogue(" not in app and ".generate(" not in app


def test_the_command_line_is_one_module_per_command_group():
    """PySceneDetect's manner: ``_cli/`` holds the entry point and one module per command
    group; each registers its own commands, the shared option blocks live in one place."""
    cli = SRC / "_cli"
    assert len((cli / "__init__.py").read_text().splitlines()) <= 60
    groups = sorted(p.stem for p in cli.glob("*.py") if not p.stem.startswith("_"))
    assert groups == ["analyze", "data", "evaluate", "make", "score"]
    for g in groups:
        text = (cli / f"{g}.py").read_text()
        assert "def register(sub)" in text and len(text.splitlines()) <= 250, g
        assert '"--force", action="store_true", help="overwrite outputs that exist' not in text


def _imports(path: Path):
    import ast

    rel = path.relative_to(SRC).parts
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            base = list(rel[:-1])
            target = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            full = target + [m for m in (node.module or "").split(".") if m]
            for alias in node.names:
                yield full, alias.name


def test_no_private_names_cross_packages():
    """A package uses another's public names only (shared private infrastructure lives in
    the top-level ``v2m._*`` modules)."""
    bad = []
    for f in SRC.rglob("*.py"):
        here = f.relative_to(SRC).parts
        pkg = here[0] if len(here) > 1 else None
        for full, name in _imports(f):
            other = full[0] if full else None
            private = name.startswith("_") or any(p.startswith("_") for p in full[1:])
            if other is not None and other != pkg and private:
                bad.append(f"{'/'.join(here)}: {'.'.join(full)}.{name}")
    assert not bad, bad


def test_no_import_circles():
    """No module imports (even inside a function) a module that imports it back, directly
    or through others (a package's face counts as the package)."""
    import ast

    mods = {}
    for f in SRC.rglob("*.py"):
        parts = list(f.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = f
    edges: dict[str, set[str]] = {}
    for m, f in mods.items():
        pkg = m.split(".") if f.name == "__init__.py" else m.split(".")[:-1]
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 1:
                base = pkg[: len(pkg) - (node.level - 1)] if node.level > 1 else pkg
                tgt = ".".join(base + ([node.module] if node.module else []))
                for a in node.names:
                    sub = f"{tgt}.{a.name}" if tgt else a.name
                    dep = sub if sub in mods else tgt
                    if dep in mods and dep != m:
                        edges.setdefault(m, set()).add(dep)

    def reaches(start: str) -> bool:
        seen, todo = set(), list(edges.get(start, ()))
        while todo:
            n = todo.pop()
            if n == start:
                return True
            if n not in seen:
                seen.add(n)
                todo.extend(edges.get(n, ()))
        return False

    assert not [m for m in mods if reaches(m)]
