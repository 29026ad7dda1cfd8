import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import synth  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory):
    """Decoded SoundFonts go to a folder of this test session, not the user's cache (the
    variable is inherited by the CLI runs in child processes)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("V2M_CACHE_DIR", str(tmp_path_factory.mktemp("v2m-cache")))
        yield


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def cuts_mp4(media_dir):
    return synth.cuts_video(media_dir / "cuts.mp4", cut_frames=(20, 45, 83), n_frames=110)


@pytest.fixture(scope="session")
def bikes():
    p = synth.SHARED / "video" / "bikes.mp4"
    if not p.exists():
        pytest.skip(f"shared sample clip missing: {p}")
    return p
