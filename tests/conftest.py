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


def _talk(media_dir, name: str, **kw):
    import os

    import talking

    if not talking.have_espeak():
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is not installed (.ci/run installs it from Debian)")
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    return talking.talking_video(media_dir / f"{name}.mp4", **kw)


@pytest.fixture(scope="session")
def talk_plain(media_dir):
    """A 25 s voice-over: three sentences from 1, 7.5 and 15 s, pauses of 1.5-3 s."""
    return _talk(media_dir, "talk-plain")


@pytest.fixture(scope="session")
def talk_bed(media_dir):
    """The same voice-over with a music bed 14 dB under it, impacts and applause."""
    return _talk(media_dir, "talk-bed", bed_db=-14.0, impacts_s=(6.3, 13.0),
                 applause_s=(20.5, 24.5))  # fmt: skip
