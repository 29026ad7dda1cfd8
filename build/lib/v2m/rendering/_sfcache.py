"""Decoded copies of compressed (``.sf3``) SoundFonts, kept in the user's cache.

An ``.sf3`` stores every sample as Ogg Vorbis; FluidSynth decodes the samples of a preset
each time a synthesiser selects it, and a render runs several synthesisers, so the same
samples were decoded again and again (4-8 s of CPU in a 10-minute render). Here the samples
that a render's presets use are decoded once, into a standard ``.sf2`` beside the others in
the cache; the preset, instrument and generator tables are copied unchanged, so the
``.sf2`` plays exactly like the ``.sf3`` (libsndfile decodes in both cases). Samples no
preset in use needs are left out (they point at a short silent block), so the first copy
stays small and quick to make; when a later render needs presets it lacks, the new copy
holds the whole font (so a cache holds at most two copies, however many instruments are
tried: growing copies one union at a time had left dozens of 300-470 MB files).
Superseded copies are removed on any later use, once no render can still read them.

Cache folder: ``V2M_CACHE_DIR``, else ``$XDG_CACHE_HOME/v2m``, else ``~/.cache/v2m``; a
copy is never rewritten in place (a running FluidSynth may still read it), new ones get
new names. Nothing here is required: when the folder cannot be written, the ``.sf3`` is
used directly.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import struct
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["cache_dir", "decoded_soundfont", "presets_of", "samples_for"]

log = logging.getLogger("v2m")

_OGG = 0x10  # sample type flag of a Vorbis-compressed sample (sf3)
_GEN_INSTRUMENT, _GEN_SAMPLE_ID = 41, 53
_SHDR = struct.Struct("<20sIIIIIBbHH")  # 46 bytes
_PAD = 46  # zero frames after every sample (SoundFont 2.04, 7.10)
_SILENT = 64  # frames of the shared silent block unused samples point at
_KEEP_OLD_S = 3600.0  # superseded copies older than this are removed


def cache_dir() -> Path:
    """Where v2m keeps decoded SoundFonts (``V2M_CACHE_DIR`` or the XDG cache)."""
    env = os.environ.get("V2M_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "v2m"


class _Font:
    """The RIFF chunks of a SoundFont and its preset tables, as read from ``path``."""

    def __init__(self, path: Path):
        self.data = _Reader(path)  # read by range: the sample data is never held whole
        d = self.data
        if bytes(d[:4]) != b"RIFF" or bytes(d[8:12]) != b"sfbk":
            raise ValueError(f"{path}: not a SoundFont (RIFF sfbk)")
        self.lists: dict[bytes, list[tuple[bytes, int, int]]] = {}
        for cid, off, size in _chunks(d, 12, len(d)):
            if cid == b"LIST":
                self.lists[bytes(d[off : off + 4])] = list(_chunks(d, off + 4, off + size))
        pdta = {c: (o, s) for c, o, s in self.lists.get(b"pdta", [])}
        need = (b"phdr", b"pbag", b"pgen", b"inst", b"ibag", b"igen", b"shdr")
        if any(k not in pdta for k in need) or b"sdta" not in self.lists:
            raise ValueError(f"{path}: SoundFont without its preset or sample data")

        def table(name: bytes, fmt: str, size: int) -> np.ndarray:
            o, s = pdta[name]
            return np.frombuffer(d[o : o + s // size * size], np.dtype(fmt))

        self.phdr = table(b"phdr", "<V20,u2,u2,u2,u4,u4,u4", 38)
        self.pbag = table(b"pbag", "<u2,u2", 4)
        self.pgen = table(b"pgen", "<u2,u2", 4)
        self.inst = table(b"inst", "<V20,u2", 22)
        self.ibag = table(b"ibag", "<u2,u2", 4)
        self.igen = table(b"igen", "<u2,u2", 4)
        o, s = pdta[b"shdr"]
        raw = d[o : o + s]
        self.shdr = [_SHDR.unpack_from(raw, i * 46) for i in range(s // 46)]
        smpl = [(o, s) for c, o, s in self.lists[b"sdta"] if c == b"smpl"]
        if not smpl:
            raise ValueError(f"{path}: SoundFont without sample data")
        self.smpl_off, self.smpl_size = smpl[0]

    def presets(self) -> list[tuple[int, int, int]]:
        """(bank, program, index) of every preset."""
        return [(int(r[2]), int(r[1]), i) for i, r in enumerate(self.phdr[:-1])]

    def _gens(self, bags, gens, first: int, last: int, oper: int) -> set[int]:
        out = set()
        for b in range(first, min(last, len(bags) - 1)):
            g0, g1 = int(bags[b][0]), int(bags[b + 1][0])
            for g in gens[g0:g1]:
                if int(g[0]) == oper:
                    out.add(int(g[1]))
        return out

    def samples_of_preset(self, index: int) -> set[int]:
        insts = self._gens(
            self.pbag,
            self.pgen,
            int(self.phdr[index][3]),
            int(self.phdr[index + 1][3]),
            _GEN_INSTRUMENT,
        )
        out: set[int] = set()
        for i in insts:
            if i + 1 < len(self.inst):
                out |= self._gens(
                    self.ibag,
                    self.igen,
                    int(self.inst[i][1]),
                    int(self.inst[i + 1][1]),
                    _GEN_SAMPLE_ID,
                )
        # the other half of a stereo pair plays along
        for s in list(out):
            if s < len(self.shdr) and self.shdr[s][9] & 0x6:
                out.add(int(self.shdr[s][8]))
        return {s for s in out if s < len(self.shdr) - 1}


class _Reader:
    """Byte ranges of a file, read on demand (``reader[a:b]`` -> bytes)."""

    def __init__(self, path: Path):
        self._fd = os.open(path, os.O_RDONLY)
        self._size = os.fstat(self._fd).st_size

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, sl: slice) -> bytes:
        a, b = max(0, sl.start or 0), min(self._size, self._size if sl.stop is None else sl.stop)
        return os.pread(self._fd, max(0, b - a), a)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)
            self._fd = None


def _chunks(d, off: int, end: int):
    while off + 8 <= end:
        cid = bytes(d[off : off + 4])
        (size,) = struct.unpack("<I", d[off + 4 : off + 8])
        yield cid, off + 8, size
        off += 8 + size + (size & 1)


def presets_of(midis: list[bytes]) -> set[tuple[int, int]]:
    """(bank, program) pairs the MIDI files select (channel 10 plays bank 128), with the
    presets FluidSynth falls back on when one is missing."""
    import mido

    out = {(0, 0), (128, 0)}
    for m in midis:
        bank = dict.fromkeys(range(16), 0)
        bank[9] = 128
        for tr in mido.MidiFile(file=io.BytesIO(m)).tracks:
            for msg in tr:
                if msg.type == "control_change" and msg.control == 0 and msg.channel != 9:
                    bank[msg.channel] = msg.value
                elif msg.type == "program_change":
                    out.add((bank[msg.channel], msg.program))
                    out.add((0, msg.program) if msg.channel != 9 else (128, 0))
    return out


def samples_for(font: _Font, presets: set[tuple[int, int]]) -> set[int]:
    """Indices of the samples that ``presets`` play."""
    out: set[int] = set()
    for bank, prog, i in font.presets():
        if (bank, prog) in presets:
            out |= font.samples_of_preset(i)
    return out


def _decode(font: _Font, index: int) -> tuple[np.ndarray, int, int]:
    """PCM (int16) of one sample, with its loop start and end relative to the sample."""
    import soundfile as sf

    _, start, end, loop0, loop1, *_rest, kind = font.shdr[index]
    base = font.smpl_off
    if kind & _OGG:  # start/end: bytes of the Ogg stream; loop points already relative
        x, _ = sf.read(io.BytesIO(font.data[base + start : base + end]), dtype="int16")
        if x.ndim > 1:
            x = x[:, 0]
        return np.ascontiguousarray(x), loop0, loop1
    x = np.frombuffer(font.data[base + 2 * start : base + 2 * end], np.int16)
    return x, loop0 - start, loop1 - start


def _ck(cid: bytes, body: bytes) -> bytes:
    return cid + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def _write_sf2(font: _Font, keep: set[int], path: Path) -> None:
    """A standard SoundFont 2 with ``keep`` decoded and every other sample silent.

    Samples are decoded and written one at a time (memory: the source font and one
    sample), then the sizes and the sample headers are filled in.
    """
    d = font.data
    info = []
    for cid, off, size in font.lists.get(b"INFO", []):
        body = bytes(d[off : off + size]) if cid != b"ifil" else struct.pack("<HH", 2, 4)
        info.append(_ck(cid, body))
    with open(path, "wb") as f:
        f.write(b"RIFF\0\0\0\0sfbk" + _ck(b"LIST", b"INFO" + b"".join(info)))
        sdta_at = f.tell()
        f.write(b"LIST\0\0\0\0sdtasmpl\0\0\0\0")
        pad = np.zeros(_PAD, "<i2").tobytes()
        f.write(np.zeros(_SILENT, "<i2").tobytes() + pad)
        pos = _SILENT + _PAD
        shdr = []
        last = len(font.shdr) - 1
        for i, row in enumerate(font.shdr):
            name, *_mid, rate, pitch, corr, link, kind = row
            if i == last:  # the terminal "EOS" record
                shdr.append(_SHDR.pack(name, 0, 0, 0, 0, 0, 0, 0, 0, 0))
            elif i in keep:
                x, l0, l1 = _decode(font, i)
                n = len(x)
                shdr.append(
                    _SHDR.pack(
                        name,
                        pos,
                        pos + n,
                        pos + l0,
                        pos + l1,
                        rate,
                        pitch,
                        corr,
                        link,
                        kind & ~_OGG,
                    )
                )
                f.write(x.astype("<i2", copy=False).tobytes() + pad)
                pos += n + _PAD
            else:  # not played by the presets in use: a short silent loop
                shdr.append(
                    _SHDR.pack(
                        name,
                        0,
                        _SILENT,
                        8,
                        _SILENT - 8,
                        rate,
                        pitch,
                        corr,
                        link,
                        kind & ~_OGG,
                    )
                )
        smpl_bytes = 2 * pos
        pdta = [
            _ck(cid, bytes(d[off : off + size]) if cid != b"shdr" else b"".join(shdr))
            for cid, off, size in font.lists[b"pdta"]
        ]
        f.write(_ck(b"LIST", b"pdta" + b"".join(pdta)))
        total = f.tell()
        f.seek(4)
        f.write(struct.pack("<I", total - 8))
        f.seek(sdta_at + 4)
        f.write(struct.pack("<I", 12 + smpl_bytes))
        f.seek(sdta_at + 16)
        f.write(struct.pack("<I", smpl_bytes))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _font_key(path: Path) -> str:
    st = path.stat()
    ident = f"{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}"
    return hashlib.sha1(ident.encode()).hexdigest()[:12]


def decoded_soundfont(path: str | os.PathLike, presets: set[tuple[int, int]]) -> Path:
    """A decoded ``.sf2`` copy of the ``.sf3`` ``path`` that holds ``presets``' samples.

    Parameters
    ----------
    path : path
        A SoundFont; anything but an ``.sf3`` is returned unchanged.
    presets : set of (bank, program)
        The presets the render selects (see :func:`presets_of`).

    Returns
    -------
    Path
        The cached copy (built now when no existing copy holds every sample needed), or
        ``path`` itself when the cache folder cannot be written or the font not parsed.
    """
    src = Path(path)
    if src.suffix.lower() != ".sf3":
        return src
    folder = cache_dir() / "soundfonts"
    stem = f"{src.stem}-{_font_key(src)}"
    index = folder / f"{stem}.json"  # sf2 name -> the samples it holds, oldest first
    try:
        known = json.loads(index.read_text()) if index.is_file() else {}
    except (OSError, ValueError):
        known = {}
    try:
        font = _Font(src)
        need = samples_for(font, presets)
    except (OSError, ValueError) as exc:
        log.debug("SoundFont cache: %s", exc)
        return src
    for name, have in reversed(list(known.items())):  # the newest first
        if need <= set(have) and (folder / name).is_file():
            _prune(folder, stem, known, name)
            return folder / name
    existing = [k for k in known if (folder / k).is_file()]
    # a second set of presets: decode everything, once (no chain of growing copies)
    keep = set(range(len(font.shdr) - 1)) if existing else need
    digest = hashlib.sha1(np.array(sorted(keep), np.int64).tobytes()).hexdigest()[:10]
    target = folder / f"{stem}-{digest}.sf2"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=".tmp")
        os.close(fd)
        try:
            _write_sf2(font, keep, Path(tmp))
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        log.info(
            "decoded %d samples of %s into %s (%.1f s, once)",
            len(keep),
            src.name,
            target,
            time.perf_counter() - t0,
        )
        known = {k: v for k, v in known.items() if (folder / k).is_file()}
        known[target.name] = sorted(keep)
        _prune(folder, stem, known, target.name, changed=True)
    except OSError as exc:
        log.debug("SoundFont cache not written (%s); using %s directly", exc, src)
        return src
    return target


def _prune(folder: Path, stem: str, known: dict, newest: str, *, changed: bool = False) -> None:
    """Remove the copies of this font that ``newest`` supersedes (the others in the index,
    and any left out of it by a concurrent writer) once no render can still read them:
    older than ``_KEEP_OLD_S``, since FluidSynth loads a preset's samples from the file
    when it is first selected. Writes the index when it changed."""
    now = time.time()
    for p in folder.glob(f"{stem}-*.sf2"):
        if p.name == newest:
            continue
        try:
            if now - p.stat().st_mtime > _KEEP_OLD_S:
                p.unlink()
        except OSError:
            pass
    for name in list(known):
        if name != newest and not (folder / name).is_file():
            del known[name]
            changed = True
    if not changed:
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(known, f)
        os.replace(tmp, folder / f"{stem}.json")
    except OSError as exc:
        log.debug("SoundFont cache index not written (%s)", exc)
