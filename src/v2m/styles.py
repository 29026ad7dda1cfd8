"""Style presets: instruments, tempo range, grooves, voicings and progression vocabulary.

Progression vocabulary is given as scale-degree loops (0 = tonic triad, 4 = dominant, ...)
that are staples of each idiom, plus the functional-harmony grammar in
:mod:`v2m.composition` (tonic -> predominant -> dominant -> tonic) that varies and cadences
them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Style", "STYLES", "get_style", "MODES", "RoleMix", "Room"]

#: Semitone offsets of the scale degrees for each supported mode.
MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
}


@dataclass(frozen=True)
class RoleMix:
    """How one role sits in the mix (written into the MIDI as controller changes).

    Attributes
    ----------
    level_db : float
        Channel volume (CC7) in dB, 0 = full; SoundFont synthesisers map CC7 and CC11 to
        40 log10(value / 127) dB.
    pan : float
        -1 (left) .. 1 (right), CC10.
    reverb, chorus : float
        Send levels 0..1 (CC91, CC93).
    swell_db : float
        Expression (CC11) range following the energy: the part is this much softer at
        energy 0 than at energy 1, and swells into louder sections.
    pedal : bool
        Sustain pedal (CC64), changed at every chord change (piano parts).
    brightness_cents : float
        Offset of the SoundFont's filter cutoff in cents (generator 8, initialFilterFc),
        sent once as a SoundFont 2 NRPN: the font closes the filter on soft notes (a
        velocity-to-cutoff modulator); a positive offset opens it, as a technician
        voices a piano's hammers brighter. Synthesisers without SF2 NRPNs ignore it.
    """

    level_db: float = -4.0
    pan: float = 0.0
    reverb: float = 0.3
    chorus: float = 0.0
    swell_db: float = 4.0
    pedal: bool = False
    brightness_cents: float = 0.0


@dataclass(frozen=True)
class Room:
    """The synthesiser's reverb (FluidSynth's Freeverb settings) for a style."""

    size: float = 0.6
    damp: float = 0.4
    width: float = 0.9
    level: float = 0.7


@dataclass(frozen=True)
class Style:
    """A named musical style.

    Attributes
    ----------
    programs : dict
        General MIDI program (0-127) per role: ``harmony``, ``bass``, ``melody``, ``arp``,
        ``pad`` (a sustaining layer that joins in quiet passages).
        A role missing here does not play in this style. ``drums`` is a flag (channel 10).
    tempo_bpm : (float, float)
        Musical tempo range in beats per minute.
    comp : str
        Harmony rhythm: ``pad`` (sustained), ``block`` (chords on beats), ``strum`` (eighths,
        down/up), ``broken`` (piano broken chords), ``offbeat`` (stabs off the beat).
    contrast_programs : dict
        Programs per role for a contrasting section of a long piece that starts at a scene
        change (the tune passes to another instrument; see :mod:`v2m.projection`).
    grooves : dict
        Drum patterns per energy level (0 low, 1 mid, 2 high); each maps a GM drum note to a
        16-step string for one 4/4 bar ("x" loud, "o" soft, "." rest).
    """

    name: str
    programs: dict[str, int]
    tempo_bpm: tuple[float, float]
    comp: str
    loops_major: tuple[tuple[int, ...], ...]
    loops_minor: tuple[tuple[int, ...], ...]
    sevenths: bool = False
    drums: bool = True
    grooves: dict[int, dict[int, str]] = field(default_factory=dict)
    bass: str = "root"  # root | root5 | octave | walking | pedal
    melody_density: float = 0.6  # 0..1: fraction of eighth slots with a note onset
    melody_register: tuple[int, int] = (62, 81)
    harmony_register: tuple[int, int] = (50, 69)
    arp_rate: int = 2  # notes per beat; 0: the arp role plays only the plucked layer of hits
    swing: float = 0.0  # 0..0.33 of an eighth note
    chords_per_bar_at_high: int = 1
    final_cadence: str = "authentic"  # authentic (V-I) or plagal (IV-I)
    contrast_programs: dict[str, int] = field(default_factory=dict)
    drum_kit: int = 0  # GM2 drum kit on channel 10: 0 standard, 48 orchestra
    mix: dict[str, RoleMix] = field(default_factory=dict)
    room: Room = Room()
    #: Mastering EQ: (kind, frequency Hz, gain dB, Q) biquads, kinds ``lowshelf``,
    #: ``highshelf``, ``peak``, ``highpass`` (applied to the mix and to every stem alike).
    eq: tuple[tuple[str, float, float, float], ...] = ()


_POP_GROOVE = {
    0: {42: "x.o.x.o.x.o.x.o."},
    1: {36: "x.......x.x.....", 38: "....x.......x...", 42: "x.x.x.x.x.x.x.x."},
    2: {
        36: "x.....x.x.x.....",
        38: "....x.......x..o",
        42: "xoxoxoxoxoxoxoxo",
        46: "..............x.",
    },
}
_ELECTRONIC_GROOVE = {
    0: {42: "..x...x...x...x."},
    # the off-beat hats under the four-on-the-floor kick (played as loud, Essentia heard
    # 140 BPM on the off-beat)
    1: {36: "x...x...x...x...", 42: "..o...o...o...o.", 39: "....x.......x..."},
    2: {
        36: "x...x...x...x...",
        42: "xxxxxxxxxxxxxxxx",
        39: "....x.......x...",
        46: "..x...x...x...x.",
    },
}
_LOFI_GROOVE = {
    0: {42: "x...x...x...x..."},
    1: {36: "x.......x.....o.", 38: "....x.......x...", 42: "x.x.x.x.x.x.x.x."},
    2: {36: "x.....x.x.....o.", 38: "....x.......x.o.", 42: "x.xox.x.x.xox.x."},
}
_FOLK_GROOVE = {
    0: {},
    1: {36: "x.......x.......", 37: "....x.......x..."},
    2: {36: "x.....x.x.......", 38: "....x.......x...", 42: "x.x.x.x.x.x.x.x."},
}
_CINEMATIC_GROOVE = {
    0: {},
    # the timpani keep the quarter-note pulse, soft on 2 and 4 (with the kick on 1 and the
    # timpani on 3 only, trackers heard half the tempo)
    1: {36: "x...............", 45: "....o...x...o..."},
    2: {
        36: "x.....x.x.......",
        38: "....x.......x...",
        47: "..............xx",
        45: "...........x....",
    },
}

#: Level in dB (RMS, no effects) of a mid-register phrase at velocity 90 with MuseScore
#: General, for the programs that carry a tune: a section that changes the program
#: corrects the channel volume by the difference so a new colour is not a new level.
PROGRAM_LEVEL_DB: dict[int, float] = {
    0: -42.1, 1: -42.9, 8: -43.6, 11: -41.8, 27: -34.8, 40: -40.7, 46: -42.6,
    60: -36.6, 65: -38.4, 68: -38.3, 73: -37.9, 80: -36.1, 81: -35.5,
}  # fmt: skip


#: The piano style's hands: one room, little expression (a pianist shapes dynamics by
#: touch), the instrument voiced bright (see the style).
_PIANO_HAND = {"reverb": 0.4, "swell_db": 2.0, "brightness_cents": 3000.0}

STYLES: dict[str, Style] = {
    "cinematic": Style(
        name="cinematic",
        contrast_programs={"melody": 68},  # oboe
        programs={"harmony": 48, "bass": 42, "melody": 60, "arp": 45, "pad": 49},
        tempo_bpm=(70, 120),
        comp="pad",
        loops_major=((0, 4, 5, 3), (0, 5, 3, 4), (3, 0, 4, 5), (0, 3, 5, 4)),
        loops_minor=((0, 5, 2, 6), (0, 3, 5, 4), (0, 5, 3, 4), (5, 3, 0, 4)),
        grooves=_CINEMATIC_GROOVE,
        drum_kit=48,
        bass="octave",
        melody_density=0.45,
        melody_register=(60, 79),
        harmony_register=(48, 67),
        mix={
            "harmony": RoleMix(level_db=-6.0, pan=-0.55, reverb=0.5, swell_db=10.0),
            "pad": RoleMix(level_db=-8.0, pan=0.5, reverb=0.6, swell_db=10.0),
            "bass": RoleMix(level_db=-4.0, pan=0.35, reverb=0.4, swell_db=6.0),
            "melody": RoleMix(level_db=0.0, pan=0.1, reverb=0.45, swell_db=6.0),
            "arp": RoleMix(level_db=-8.0, pan=-0.7, reverb=0.4, swell_db=4.0),
            "drums": RoleMix(level_db=-7.0, pan=0.0, reverb=0.45, swell_db=0.0),
        },
        room=Room(size=0.85, damp=0.35, width=1.0, level=0.8),
        # 7 dB of presence: the song form's softer bridge took the 2-6 kHz share from
        # 3.2 to 2.9 % with 6 dB (3.4 % with 7 dB)
        eq=(
            ("lowshelf", 200.0, -3.0, 0.7),
            ("peak", 3500.0, 7.0, 0.7),
            ("highshelf", 8000.0, 3.0, 0.7),
        ),
    ),
    "ambient": Style(
        name="ambient",
        contrast_programs={"melody": 8},  # celesta (a bell-like colour, like the vibraphone)
        programs={"harmony": 94, "bass": 42, "melody": 11, "arp": 98},
        tempo_bpm=(60, 90),
        comp="pad",
        loops_major=((0, 3, 5, 3), (0, 2, 3, 0), (3, 0, 5, 4)),
        loops_minor=((0, 5, 3, 6), (0, 3, 0, 5), (5, 3, 0, 0)),
        sevenths=True,
        drums=False,
        bass="pedal",
        melody_density=0.25,
        melody_register=(67, 86),
        harmony_register=(48, 74),
        arp_rate=2,
        final_cadence="plagal",
        mix={
            "harmony": RoleMix(level_db=-7.0, pan=-0.5, reverb=0.6, swell_db=10.0),
            "bass": RoleMix(level_db=-9.0, pan=0.3, reverb=0.5, swell_db=6.0),
            "melody": RoleMix(level_db=0.0, pan=0.15, reverb=0.6, swell_db=4.0),
            "arp": RoleMix(level_db=-8.0, pan=0.65, reverb=0.6, swell_db=4.0),
        },
        room=Room(size=0.9, damp=0.3, width=1.0, level=0.85),
        # the pads' low mids thinned and a broad presence lift, so the texture is not a
        # 700 Hz blanket on small speakers (spectral centroid 1.18 -> 1.3 kHz, 2-6 kHz
        # share 2.6 -> 3.6 %)
        eq=(
            ("lowshelf", 300.0, -8.0, 0.7),
            ("peak", 3000.0, 9.0, 0.6),
            ("highshelf", 8000.0, 4.0, 0.7),
        ),
    ),
    "piano": Style(
        name="piano",
        contrast_programs={"melody": 46},  # harp (plucked, decays like the piano)
        # the Bright Grand: the font's Grand Piano holds 0.87 % of its power in 2-6 kHz even
        # at fortissimo, the Bright Grand 3.05 % (centroid 848 -> 957 Hz, 2-6 kHz share
        # 1.1 -> 2.0 % for the style); one instrument for all three hands
        programs={"harmony": 1, "bass": 1, "melody": 1},
        tempo_bpm=(66, 110),
        comp="broken",
        loops_major=((0, 5, 3, 4), (0, 3, 4, 0), (0, 2, 5, 3), (5, 3, 0, 4)),
        loops_minor=((0, 3, 6, 2), (0, 5, 3, 4), (0, 3, 4, 0)),
        drums=False,
        bass="root5",
        melody_density=0.55,
        melody_register=(67, 88),
        harmony_register=(55, 72),
        mix={
            # (_PIANO_HAND) voiced bright: the font closes its filter on soft notes, so
            # presence EQ had little to lift (952 Hz, 2.0 % in 2-6 kHz); opened by 3000
            # cents 1256 Hz and 3.0 %; the tune ~6 dB over the hands (it was 9-10 dB and,
            # the darkest part, set the mix's colour) and 1 dB more presence: 3.0-3.8 %
            # over keys and seeds
            "harmony": RoleMix(level_db=-5.0, pan=-0.35, pedal=True, **_PIANO_HAND),
            "bass": RoleMix(level_db=-6.0, pan=-0.5, pedal=True, **_PIANO_HAND),
            "melody": RoleMix(level_db=-4.5, pan=0.3, **_PIANO_HAND),
        },
        room=Room(size=0.7, damp=0.4, width=1.0, level=0.7),
        eq=(
            ("lowshelf", 220.0, -6.0, 0.7),
            ("peak", 3200.0, 9.0, 0.7),
            ("highshelf", 8000.0, 5.0, 0.7),
        ),
    ),
    "pop": Style(
        name="pop",
        contrast_programs={"melody": 27},  # clean electric guitar
        programs={"harmony": 4, "bass": 33, "melody": 80, "arp": 25, "pad": 89},
        tempo_bpm=(90, 128),
        comp="block",
        loops_major=((0, 4, 5, 3), (5, 3, 0, 4), (0, 5, 3, 4), (3, 0, 4, 5)),
        loops_minor=((0, 5, 2, 6), (5, 3, 0, 4), (0, 6, 5, 6)),
        grooves=_POP_GROOVE,
        bass="root5",
        melody_density=0.65,
        chords_per_bar_at_high=1,
        mix={
            "harmony": RoleMix(level_db=-7.0, pan=-0.8, reverb=0.4, swell_db=5.0),
            "pad": RoleMix(level_db=-10.0, pan=0.5, reverb=0.5, swell_db=8.0),
            "bass": RoleMix(level_db=-4.0, pan=0.0, reverb=0.05, swell_db=3.0),
            # the lead off centre, so the mix is not near mono (L/R correlation 0.86 -> 0.83)
            "melody": RoleMix(level_db=0.0, pan=0.25, reverb=0.45, swell_db=4.0),
            "arp": RoleMix(level_db=-8.0, pan=0.8, reverb=0.4, swell_db=4.0),
            "drums": RoleMix(level_db=-5.0, pan=0.0, reverb=0.4, swell_db=0.0),
        },
        room=Room(size=0.6, damp=0.4, width=1.0, level=0.9),
    ),
    "electronic": Style(
        name="electronic",
        contrast_programs={"melody": 80},  # square lead
        programs={"harmony": 90, "bass": 38, "melody": 81, "arp": 84, "pad": 91},
        tempo_bpm=(110, 132),
        comp="offbeat",
        loops_major=((0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 5, 4)),
        loops_minor=((0, 5, 2, 6), (0, 6, 5, 6), (0, 3, 6, 5)),
        grooves=_ELECTRONIC_GROOVE,
        bass="octave",
        melody_density=0.55,
        arp_rate=4,
        mix={
            "harmony": RoleMix(level_db=-7.0, pan=-0.8, reverb=0.45, swell_db=6.0),
            "pad": RoleMix(level_db=-10.0, pan=0.55, reverb=0.55, swell_db=8.0),
            "bass": RoleMix(level_db=-4.0, pan=0.0, reverb=0.05, swell_db=3.0),
            # the lead off centre, so the mix is not near mono (L/R correlation 0.87 -> 0.84)
            "melody": RoleMix(level_db=0.0, pan=0.3, reverb=0.5, swell_db=4.0),
            "arp": RoleMix(level_db=-8.0, pan=0.8, reverb=0.45, swell_db=4.0),
            "drums": RoleMix(level_db=-5.0, pan=0.0, reverb=0.4, swell_db=0.0),
        },
        room=Room(size=0.7, damp=0.35, width=1.0, level=0.9),
    ),
    "folk": Style(
        name="folk",
        contrast_programs={"melody": 40},  # violin
        programs={"harmony": 25, "bass": 32, "melody": 73, "arp": 24, "pad": 49},
        tempo_bpm=(80, 120),
        comp="strum",
        loops_major=((0, 3, 0, 4), (0, 4, 5, 3), (0, 3, 4, 0), (3, 0, 4, 0)),
        loops_minor=((0, 6, 5, 4), (0, 3, 6, 0), (0, 6, 3, 4)),
        grooves=_FOLK_GROOVE,
        bass="root5",
        melody_density=0.55,
        mix={
            "harmony": RoleMix(level_db=-6.0, pan=-0.8, reverb=0.4, swell_db=5.0),
            "pad": RoleMix(level_db=-10.0, pan=0.45, reverb=0.5, swell_db=8.0),
            "bass": RoleMix(level_db=-4.0, pan=0.15, reverb=0.1, swell_db=3.0),
            # the lead off centre, so the mix is not near mono (L/R correlation 0.86 -> 0.84)
            "melody": RoleMix(level_db=0.0, pan=0.25, reverb=0.5, swell_db=4.0),
            "arp": RoleMix(level_db=-8.0, pan=0.8, reverb=0.4, swell_db=4.0),
            "drums": RoleMix(level_db=-7.0, pan=0.0, reverb=0.45, swell_db=0.0),
        },
        room=Room(size=0.6, damp=0.45, width=1.0, level=0.85),
        # guitars and flute need their bite (2-6 kHz share 2.2 -> 3.5 %)
        eq=(
            ("lowshelf", 180.0, -2.0, 0.7),
            ("peak", 3500.0, 6.0, 0.8),
            ("highshelf", 8000.0, 2.0, 0.7),
        ),
    ),
    "lofi": Style(
        name="lofi",
        contrast_programs={"melody": 65},  # alto sax
        # the jazz guitar only plucks the hits (no arpeggio): the Rhodes and vibraphone
        # speak too softly to mark a cut against the groove's own downbeats
        programs={"harmony": 4, "bass": 33, "melody": 11, "pad": 89, "arp": 26},
        arp_rate=0,
        tempo_bpm=(70, 92),
        comp="block",
        loops_major=((1, 4, 0, 5), (3, 2, 1, 0), (0, 5, 1, 4)),
        loops_minor=((0, 3, 6, 2), (3, 4, 0, 0), (5, 4, 0, 3)),
        sevenths=True,
        grooves=_LOFI_GROOVE,
        bass="root5",
        melody_density=0.45,
        swing=0.2,
        mix={
            "harmony": RoleMix(level_db=-9.0, pan=-0.75, reverb=0.45, swell_db=5.0),
            "pad": RoleMix(level_db=-10.0, pan=0.7, reverb=0.5, swell_db=8.0),
            "bass": RoleMix(level_db=-8.0, pan=0.0, reverb=0.05, swell_db=3.0),
            "melody": RoleMix(level_db=0.0, pan=0.2, reverb=0.4, swell_db=4.0),
            "drums": RoleMix(level_db=-6.0, pan=0.0, reverb=0.2, swell_db=0.0),
            "arp": RoleMix(level_db=-4.0, pan=0.5, reverb=0.35, swell_db=0.0),
        },
        room=Room(size=0.55, damp=0.55, width=1.0, level=0.85),
        # the song form's quieter passages (bridge, breakdown) play softer and darker:
        # 2-6 kHz share 3.0 -> 2.6 % with 3.5 dB here, 3.3 % with 5 dB
        eq=(("lowshelf", 180.0, -2.0, 0.7), ("peak", 3000.0, 5.0, 0.8)),
    ),
}
STYLES["orchestral"] = STYLES["cinematic"]
STYLES["solo-piano"] = STYLES["piano"]
STYLES["upbeat"] = STYLES["pop"]
STYLES["acoustic"] = STYLES["folk"]
STYLES["lo-fi"] = STYLES["lofi"]

#: The distinct presets (aliases excluded).
STYLE_NAMES: tuple[str, ...] = (
    "cinematic",
    "ambient",
    "piano",
    "pop",
    "electronic",
    "folk",
    "lofi",
)


def get_style(name: str) -> Style:
    """Return the preset called ``name`` (case-insensitive; aliases accepted)."""
    key = name.strip().lower().replace("_", "-")
    if key not in STYLES:
        from .errors import CueSheetError

        raise CueSheetError(f"style: unknown style {name!r} (known: {', '.join(STYLE_NAMES)})")
    return STYLES[key]
