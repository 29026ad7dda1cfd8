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


@pytest.mark.parametrize("package", ["analysis", "rendering"])
def test_faces_are_thin(package):
    """A face re-exports; the stage's code lives in modules named for what they do."""
    face = (SRC / package / "__init__.py").read_text().splitlines()
    assert len(face) <= 60
    assert not any(line.startswith(("def ", "class ")) for line in face)
