"""The mix as MIDI controllers: start-of-part settings, the brightness NRPN, expression."""

import io

import mido
import pretty_midi

from v2m.composition import compose
from v2m.composition.mixing import (
    CC_EXPRESSION,
    CC_PAN,
    CC_VOLUME,
    db_to_cc,
    filter_offset_nrpn,
    role_mix,
)
from v2m.cuesheet import make_cue
from v2m.styles import get_style

NRPN_3000 = [(99, 120), (98, 8), (38, 92), (6, 75), (99, 127), (98, 127)]


def test_filter_offset_nrpn_known_values():
    """SoundFont 2 NRPN for generator 8 (initialFilterFc): 14-bit data centred on 8192 in
    units of 2 cents, LSB sent before MSB, then the null parameter."""
    assert [(c, v) for _, c, v in filter_offset_nrpn(3000)] == NRPN_3000
    # 8192 - 500 = 7692 = 60 * 128 + 12
    assert [(c, v) for _, c, v in filter_offset_nrpn(-1000)][2:4] == [(38, 12), (6, 60)]
    # clamped to the 14-bit range
    assert [(c, v) for _, c, v in filter_offset_nrpn(1e6)][2:4] == [(38, 127), (6, 127)]
    assert [(c, v) for _, c, v in filter_offset_nrpn(-1e6)][2:4] == [(38, 0), (6, 0)]


def _start_controls(mf: mido.MidiFile, channel: int) -> list[tuple[int, int]]:
    """Controller changes at tick 0 on ``channel``, in file order."""
    out = []
    for track in mf.tracks:
        now = 0
        for msg in track:
            now += msg.time
            if now > 0:
                break
            if msg.type == "control_change" and msg.channel == channel:
                out.append((msg.control, msg.value))
    return out


def test_piano_parts_start_with_their_mix_and_the_nrpn_in_order():
    """Each piano part's track opens with its volume, pan and the brightness NRPN as one
    contiguous sequence in order (sorting controllers by number at one tick broke it);
    pretty_midi reads the same values."""
    cue = make_cue(duration_s=12, tempo_bpm=90, style="piano", key="A minor", seed=1)
    sc = compose(cue)
    data = sc.to_bytes()
    mf = mido.MidiFile(file=io.BytesIO(data))
    style = get_style("piano")
    pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    by_name = {inst.name: inst for inst in pm.instruments}
    for role in ("melody", "harmony", "bass"):
        m = role_mix(style, role)
        assert m.brightness_cents == 3000
        channel = next(
            msg.channel
            for tr in mf.tracks
            if tr.name == role
            for msg in tr
            if msg.type == "note_on"
        )
        start = _start_controls(mf, channel)
        k = start.index((99, 120))
        assert start[k : k + 6] == NRPN_3000, (role, start)
        assert (CC_VOLUME, db_to_cc(m.level_db)) in start
        assert (CC_PAN, int(round(64 + 63 * m.pan))) in start
        first = {cc.number: cc.value for cc in reversed(by_name[role].control_changes)}
        assert first[CC_VOLUME] == db_to_cc(m.level_db)


def test_expression_at_the_start_is_the_first_bars_level():
    """The expression a part starts at is its first bar's level: the reset to 127 written
    at the same tick must not land after it."""
    cue = make_cue(duration_s=20, tempo_bpm=96, style="cinematic", key="D minor", seed=3)
    cue.energy = [0.15] * len(cue.energy)  # a quiet cue: every bar below full expression
    sc = compose(cue)
    mf = mido.MidiFile(file=io.BytesIO(sc.to_bytes()))
    checked = 0
    for role, events in sc.controls.items():
        first_level = next(v for b, cc, v in events if cc == CC_EXPRESSION and b is not None)
        if first_level == 127:
            continue
        channel = next(
            msg.channel
            for tr in mf.tracks
            if tr.name == role
            for msg in tr
            if hasattr(msg, "channel")
        )
        start = [v for c, v in _start_controls(mf, channel) if c == CC_EXPRESSION]
        assert start[-1] == first_level < 127, (role, start)
        checked += 1
    assert checked >= 2
