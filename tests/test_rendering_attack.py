"""Attack compensation: slow-speaking presets start early at render time."""

import numpy as np
import pytest

from v2m.rendering import attack, find_soundfont, render

NOTE_ON, NOTE_OFF, CC, PROGRAM = 0x90, 0x80, 0xB0, 0xC0


def _shift(events, leads, sr=1000):
    frame, kind, channel, a = (np.array(x) for x in zip(*events, strict=True))
    return attack.shift_events(frame, kind, channel, a, leads=leads, sample_rate=sr).tolist()


def test_a_channel_moves_earlier_by_its_programs_lead():
    """Notes and controllers of a channel move together by its program's lead (40 ms at
    1 kHz = 40 frames); the drum channel and programs without a lead stay; nothing moves
    before 0."""
    events = [
        (0, PROGRAM, 0, 48),
        (0, PROGRAM, 1, 0),
        (20, NOTE_ON, 0, 62),
        (100, NOTE_ON, 0, 64),
        (100, NOTE_ON, 1, 60),
        (100, NOTE_ON, 9, 36),
        (300, CC, 0, 11),
        (500, NOTE_OFF, 0, 64),
    ]
    assert _shift(events, {48: 0.040}) == [0, 0, 0, 60, 100, 100, 260, 460]
    assert _shift(events, {}) == [e[0] for e in events]


def test_a_channel_keeps_its_order_where_the_lead_grows():
    """A program change to a slower preset cannot move the new notes before what the
    channel played up to it: they wait for the last earlier event."""
    events = [
        (0, PROGRAM, 0, 0),
        (100, NOTE_ON, 0, 60),
        (200, NOTE_OFF, 0, 60),
        (200, PROGRAM, 0, 48),
        (210, NOTE_ON, 0, 62),
        (400, NOTE_ON, 0, 64),
    ]
    new = _shift(events, {48: 0.040})
    assert new == [0, 100, 200, 200, 200, 360]
    assert new == sorted(new)


def test_leads_belong_to_musescore_general_only():
    assert attack.leads_s("/usr/share/sounds/sf3/MuseScore_General.sf3")
    assert attack.leads_s("MuseScore_General_Full.sf2") == attack.leads_s("x/musescore_general.sf3")
    assert attack.leads_s("/usr/share/sounds/sf2/FluidR3_GM.sf2") == {}
    assert attack.leads_s(None) == {}
    # bowed strings speak slowly in this font; the piano does not
    assert attack.MUSESCORE_GENERAL_LEADS_MS[48] >= 25
    assert 0 not in attack.MUSESCORE_GENERAL_LEADS_MS


def _one_note(program: int, tmp_path, name: str):
    import mido

    tr = mido.MidiTrack([mido.Message("program_change", program=program, time=0)])
    tr.append(mido.Message("note_on", note=62, velocity=80, time=960))
    tr.append(mido.Message("note_off", note=62, velocity=0, time=600))
    mf = mido.MidiFile(type=1, ticks_per_beat=480)
    mf.tracks.append(tr)
    path = tmp_path / f"{name}.mid"
    mf.save(str(path))
    return path


def _onset_s(program: int, tmp_path, name: str, *, attack_leads: bool = True) -> float:
    """Time of the onset-strength peak after a note-on at 1.0 s (hop 128 at 22050 Hz)."""
    import librosa

    path = _one_note(program, tmp_path, name)
    x = render(path, attack_leads=attack_leads).mix.mean(axis=1)
    y = librosa.resample(x, orig_sr=48000, target_sr=22050)
    env = librosa.onset.onset_strength(y=y, sr=22050, hop_length=128)
    t = librosa.frames_to_time(np.arange(len(env)), sr=22050, hop_length=128)
    m = (t > 0.9) & (t < 1.3)
    return float(t[m][np.argmax(env[m])])


def test_strings_are_heard_earlier_by_their_lead(tmp_path):
    """Rendered with the default font, a string section's onset moves earlier by the
    table's lead (within a hop and a half); the piano, without a lead, does not move."""
    if find_soundfont().origin != "musescore":
        pytest.skip("MuseScore General / FluidSynth not installed (apt-get, see README)")
    lead = attack.MUSESCORE_GENERAL_LEADS_MS[48] / 1000
    with_lead = _onset_s(48, tmp_path, "strings")
    plain = _onset_s(48, tmp_path, "strings", attack_leads=False)
    assert plain - with_lead == pytest.approx(lead, abs=0.009)
    piano = _onset_s(0, tmp_path, "piano")
    assert _onset_s(0, tmp_path, "piano", attack_leads=False) == pytest.approx(piano, abs=1e-6)


def test_cli_renders_without_leads_on_request(tmp_path):
    """``v2m render --no-attack-leads`` plays the strings where the file puts them: the
    two renders differ, and the one without leads starts sounding later."""
    import soundfile as sf

    from v2m._cli import main

    if find_soundfont().origin != "musescore":
        pytest.skip("MuseScore General / FluidSynth not installed (apt-get, see README)")
    mid = _one_note(48, tmp_path, "strings")
    a, b = tmp_path / "lead.wav", tmp_path / "plain.wav"
    assert main(["render", str(mid), "-o", str(a)]) == 0
    assert main(["render", str(mid), "-o", str(b), "--no-attack-leads"]) == 0
    xa, sr = sf.read(a)
    xb, _ = sf.read(b)

    def first_sound_s(x):
        return np.argmax(np.abs(x).max(axis=1) > 1e-3) / sr

    lead = attack.MUSESCORE_GENERAL_LEADS_MS[48] / 1000
    assert first_sound_s(xb) - first_sound_s(xa) == pytest.approx(lead, abs=0.003)
