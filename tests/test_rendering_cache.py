"""The render cache: a MIDI file rendered once is read back exactly, keyed by its bytes."""

import numpy as np

from v2m.composition import compose
from v2m.cuesheet import make_cue
from v2m.rendering import cache, render


def _midi(path, seed):
    sc = compose(make_cue(duration_s=3, tempo_bpm=110, style="pop", key="C major", seed=seed))
    path.write_bytes(sc.to_bytes())
    return path


def test_a_cached_render_equals_a_fresh_one(tmp_path, monkeypatch):
    monkeypatch.setenv("V2M_CACHE_DIR", str(tmp_path / "cache"))
    calls = []
    import v2m.rendering as R  # render_mix looks render up here on every call

    def counting(*a, **k):
        calls.append(a[0])
        return render(*a, **k)

    monkeypatch.setattr(R, "render", counting)
    a = _midi(tmp_path / "a.mid", 1)
    first, sr = cache.render_mix(a, sample_rate=44100)
    again, _ = cache.render_mix(a, sample_rate=44100)
    assert len(calls) == 1 and sr == 44100
    assert again.dtype == np.float32 and np.array_equal(first, again)
    assert np.array_equal(first, render(a, sample_rate=44100).mix)
    # another file, or another rate, is another render
    b = _midi(tmp_path / "b.mid", 2)
    other, _ = cache.render_mix(b, sample_rate=44100)
    cache.render_mix(a, sample_rate=48000)
    assert len(calls) == 3 and not np.array_equal(other[: first.shape[0]], first[: other.shape[0]])
    assert len(list((tmp_path / "cache" / "renders").glob("*.npy"))) == 3
    # the same bytes under another name are found in the cache
    c = tmp_path / "c.mid"
    c.write_bytes(a.read_bytes())
    cache.render_mix(c, sample_rate=44100)
    assert len(calls) == 3


def test_size_limit_and_switch_off(tmp_path, monkeypatch):
    monkeypatch.setenv("V2M_CACHE_DIR", str(tmp_path / "cache"))
    a, b = _midi(tmp_path / "a.mid", 1), _midi(tmp_path / "b.mid", 2)
    mix, _ = cache.render_mix(a)
    one_mb = mix.nbytes / 2**20
    monkeypatch.setenv("V2M_RENDER_CACHE_MB", str(1.5 * one_mb))  # room for one render
    cache.render_mix(b)
    kept = list((tmp_path / "cache" / "renders").glob("*.npy"))
    assert len(kept) == 1 and np.load(kept[0]).shape[0] == cache.render_mix(b)[0].shape[0]
    monkeypatch.setenv("V2M_RENDER_CACHE", "0")
    monkeypatch.setenv("V2M_RENDER_CACHE_MB", "2048")
    cache.render_mix(a)
    assert len(list((tmp_path / "cache" / "renders").glob("*.npy"))) == 1
    assert not list((tmp_path / "cache" / "renders").glob("*.tmp"))
