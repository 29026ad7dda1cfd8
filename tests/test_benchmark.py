"""v2m bench: protocols against direct metric calls, resuming, serial = parallel = Ray."""

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
import synth

from v2m import OutputExistsError, ParameterError, benchmark
from v2m._cli import main
from v2m.benchmark.protocols import PROTOCOLS
from v2m.evaluation import AUDIO_SR, load_audio
from v2m.metrics import rhythm, symbolic


def _clicks(path, *, bpm: float, seconds: float = 4.0, sr: int = 22050):
    y = np.zeros(int(seconds * sr))
    for t in np.arange(0.25, seconds, 60.0 / bpm):
        i = int(t * sr)
        y[i : i + 200] += np.hanning(200) * 0.8
    sf.write(path, y, sr)
    return path


@pytest.fixture(scope="module")
def v2m_set(tmp_path_factory):
    """A V2M-style dataset: three short cut videos with their own (click-track) music."""
    root = tmp_path_factory.mktemp("bench") / "V2M"
    (root / "video").mkdir(parents=True)
    (root / "audio").mkdir()
    lines = []
    for i, (cuts, bpm) in enumerate((((20, 55), 100), ((30,), 120), ((15, 40, 70), 140))):
        vid = f"clip{i}"
        synth.cuts_video(root / "video" / f"{vid}.mp4", cut_frames=cuts, n_frames=90)
        _clicks(root / "audio" / f"{vid}.wav", bpm=bpm, seconds=3.6)
        rec = {"path": f"audio/{vid}.wav", "video_path": f"video/{vid}.mp4", "duration": 3.6}
        lines.append(json.dumps(rec))
    (root / "test").mkdir()
    (root / "test" / "data.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def serial_run(v2m_set, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "serial"
    res = benchmark.run(
        dataset="v2m", root=v2m_set, split="test", protocol="loris", out_dir=out, jobs=1,
        system={"kind": "v2m", "seed": 3},
    )  # fmt: skip
    return out, res


def test_protocol_registry():
    assert PROTOCOLS.names() == ["d2mgan", "diffbgm", "loris", "symbolic", "vidmuse"]
    assert PROTOCOLS.get_class("CDCD").name == "d2mgan"
    with pytest.raises(ParameterError, match="protocol 'fad'.*known: d2mgan"):
        PROTOCOLS.get_class("fad")
    with pytest.raises(ParameterError, match="--weights vggish=PATH, --weights imagebind"):
        PROTOCOLS.get_class("vidmuse")({})


def test_loris_protocol_equals_the_metrics_and_writes_the_table(serial_run, v2m_set):
    out, res = serial_run
    assert res.ran == 3 and not res.errors
    for vid, r in res.items.items():
        gen, dg = load_audio(out / "outputs" / f"{vid}.wav")
        ref, dr = load_audio(v2m_set / "audio" / f"{vid}.wav")
        og = rhythm.detect_onsets(gen, AUDIO_SR, variant="loris")
        orf = rhythm.detect_onsets(ref, AUDIO_SR, variant="loris")
        kw = {"ref_duration_s": dr, "gen_duration_s": dg}
        assert r["values"]["bcs_loris"] == pytest.approx(
            rhythm.beats_coverage_score(orf, og, formula="loris", **kw)
        )
        assert r["values"]["bhs_loris"] == pytest.approx(rhythm.beats_hit_score(orf, og, **kw))
    bcs = [r["values"]["bcs_loris"] for r in res.items.values()]
    assert res.set_metrics["csd"] == pytest.approx(np.std(bcs))  # LORIS's CSD, ddof 0
    table = (out / "table.md").read_text()
    assert "| System | BCS ↑ | BHS ↑ | F1 ↑ | CSD ↓ | HSD ↓ | n |" in table
    assert f"{np.mean(bcs):.4f} ± " in table and "pre_avg=3" in table
    saved = json.loads((out / "results.json").read_text())
    assert saved["summary"]["bcs_loris"]["n"] == 3
    assert saved["manifest"]["system"] == {"kind": "v2m", "seed": 3, "label": "v2m"}
    assert (out / "results.csv").read_text().splitlines()[0].startswith("id,bcs_loris")


def test_an_interrupted_run_resumes_and_settings_are_guarded(serial_run, v2m_set, tmp_path):
    out, first = serial_run
    run = tmp_path / "copy"
    shutil.copytree(out, run)
    (run / "items" / "clip1.json").unlink()  # as if stopped before clip1 finished
    kw = dict(dataset="v2m", root=v2m_set, split="test", protocol="loris", out_dir=run,
              jobs=1, system={"kind": "v2m", "seed": 3})  # fmt: skip
    again = benchmark.run(**kw)
    assert again.ran == 1
    assert {k: v["values"] for k, v in again.items.items()} == {
        k: v["values"] for k, v in first.items.items()
    }
    assert benchmark.run(**kw).ran == 0
    with pytest.raises(OutputExistsError, match="other settings"):
        benchmark.run(**{**kw, "protocol": "d2mgan"})
    assert benchmark.run(**{**kw, "protocol": "d2mgan", "force": True}).ran == 3


def test_parallel_and_ray_give_the_serial_values(serial_run, v2m_set, tmp_path):
    out, first = serial_run
    want = {k: v["values"] for k, v in first.items.items()}
    par = benchmark.run(
        dataset="v2m", root=v2m_set, split="test", protocol="loris", out_dir=tmp_path / "par",
        jobs=2, system={"kind": "v2m", "seed": 3},
    )  # fmt: skip
    assert par.ran == 3 and {k: v["values"] for k, v in par.items.items()} == want
    pytest.importorskip("ray")
    ray = benchmark.run(
        dataset="v2m", root=v2m_set, split="test", protocol="loris", out_dir=tmp_path / "ray",
        jobs=2, ray_address="local",
        system={"kind": "outputs", "folder": str(out / "outputs"), "label": "v2m"},
    )  # fmt: skip
    assert ray.ran == 3 and {k: v["values"] for k, v in ray.items.items()} == want


def test_symbolic_and_diffbgm_on_another_systems_midi(tmp_path):
    root = tmp_path / "SymMV"
    root.mkdir()
    (root / "SymMV.csv").write_text(
        "index\tyoutube_url\ttonality\tshazam_id\n"
        "001\thttps://www.youtube.com/watch?v=aaaaaaaaaa1\tC major\t\n"
        "002\thttps://www.youtube.com/watch?v=aaaaaaaaaa2\tA minor\t\n"
        "003\thttps://www.youtube.com/watch?v=aaaaaaaaaa3\tC major\t\n"
    )
    gen = tmp_path / "gen"
    gen.mkdir()
    import pretty_midi

    for i, pitches in enumerate(([60, 64, 67, 72] * 4, [57, 60, 64, 69, 71] * 3)):
        pm = pretty_midi.PrettyMIDI(initial_tempo=120)
        inst = pretty_midi.Instrument(0)
        for k, p in enumerate(pitches):
            inst.notes.append(pretty_midi.Note(80, p, 0.5 * k, 0.5 * k + 0.45))
        pm.instruments.append(inst)
        pm.write(str(gen / f"00{i + 1}.mid"))
    res = benchmark.run(
        dataset="symmv", root=root, protocol="symbolic", out_dir=tmp_path / "run", jobs=1,
        system={"kind": "outputs", "folder": str(gen), "label": "mine"},
    )  # fmt: skip
    assert set(res.errors) == {"003"} and "no output named 003" in res.errors["003"]
    direct = symbolic.evaluate(symbolic.notes_from_midi(gen / "001.mid"))
    assert res.items["001"]["values"]["pitch_class_entropy"] == pytest.approx(
        direct["pitch_class_entropy"]
    )
    table = res.to_markdown()
    assert "| mine |" in table and "| 2 |" in table and "1 item(s) failed" in table
    dbgm = benchmark.run(
        dataset="symmv", root=root, protocol="diffbgm", out_dir=tmp_path / "dbgm", jobs=1,
        limit=1, system={"kind": "outputs", "folder": str(gen)},
    )  # fmt: skip
    v = dbgm.items["001"]["values"]
    assert set(v) == {
        "pitch_class_entropy", "grooving_pattern_similarity", "si_short", "si_mid", "si_long"
    }  # fmt: skip
    assert v["pitch_class_entropy"] == pytest.approx(direct["pitch_class_entropy"])


def test_vidmuse_protocol_with_tiny_random_models(v2m_set, serial_run, tmp_path):
    torch = pytest.importorskip("torch")
    from test_metrics_imagebind import TINY

    from v2m.metrics import embedders
    from v2m.metrics import imagebind as IB

    torch.manual_seed(0)
    vgg = tmp_path / "vggish.pt"
    torch.save(embedders.build_vggish(width=1 / 64).state_dict(), vgg)
    ibw = tmp_path / "ib.pth"
    torch.save(IB.build_imagebind(**TINY).state_dict(), ibw)
    out, _ = serial_run
    res = benchmark.run(
        dataset="v2m", root=v2m_set, split="test", protocol="vidmuse",
        out_dir=tmp_path / "vm", jobs=1, weights={"vggish": str(vgg), "imagebind": str(ibw)},
        system={"kind": "outputs", "folder": str(out / "outputs")},
    )  # fmt: skip
    assert not res.errors
    for r in res.items.values():
        v = r["values"]
        assert -1 <= v["imagebind_score"] <= 1
        assert v["imagebind_score_x100"] == pytest.approx(100 * v["imagebind_score"])
    # FAD of the whole set against the references, on the same VGGish
    emb = embedders.VGGish(vgg, width=1 / 64)
    from v2m.metrics import embedding

    g = np.concatenate([emb.embed(load_audio(out / "outputs" / f"clip{i}.wav")[0], AUDIO_SR)
                        for i in range(3)])  # fmt: skip
    r = np.concatenate([emb.embed(load_audio(v2m_set / "audio" / f"clip{i}.wav")[0], AUDIO_SR)
                        for i in range(3)])  # fmt: skip
    want = embedding.frechet_distance_from_embeddings(g, r)
    assert res.set_metrics["fad_vggish"] == pytest.approx(want)
    assert "no --weights passt=PATH" in (tmp_path / "vm" / "table.md").read_text()


def test_vidmuse_kl_on_a_tiny_random_passt(v2m_set, serial_run, tmp_path):
    """KL per item = the mean of AudioCraft's per-segment KL of our PaSST's distributions
    (reference cut to the generated length); the set value weighs every pair the same."""
    torch = pytest.importorskip("torch")
    from test_metrics_imagebind import TINY

    from v2m.metrics import embedders, passt
    from v2m.metrics import imagebind as IB

    torch.manual_seed(0)
    w = {}
    for name, net in (("vggish", embedders.build_vggish(width=1 / 64)),
                      ("imagebind", IB.build_imagebind(**TINY)),
                      ("passt", passt.build_passt(width=24, depth=1, heads=12))):  # fmt: skip
        with torch.no_grad():
            for p in net.parameters():
                p.add_(0.05 * torch.randn_like(p))
        torch.save(net.state_dict(), tmp_path / f"{name}.pt")
        w[name] = str(tmp_path / f"{name}.pt")
    out, _ = serial_run
    res = benchmark.run(
        dataset="v2m", root=v2m_set, split="test", protocol="vidmuse", out_dir=tmp_path / "kl",
        jobs=1, weights=w, system={"kind": "outputs", "folder": str(out / "outputs")},
    )  # fmt: skip
    assert not res.errors
    model = passt.PaSST(w["passt"])  # 12 heads, as the protocol loads it
    kls = []
    for i in range(3):
        yg, _ = load_audio(out / "outputs" / f"clip{i}.wav", sample_rate=32000)
        yr, _ = load_audio(v2m_set / "audio" / f"clip{i}.wav", sample_rate=32000)
        kl = passt.kl_segments(model.classify(yg, 32000), model.classify(yr[: yg.size], 32000))
        assert kl.size >= 1
        got = res.items[f"clip{i}"]["values"]["kl_passt"]
        assert got == pytest.approx(kl.mean(), rel=1e-9) and got > 0
        kls.append(kl)
    want = np.concatenate(kls).mean()
    assert res.set_metrics["kl_passt_pairs"] == pytest.approx(want, rel=1e-9)
    assert "KL" in (tmp_path / "kl" / "table.md").read_text()


def test_cli_bench(serial_run, v2m_set, tmp_path, capsys):
    out, _ = serial_run
    args = ["bench", "--dataset", "v2m", "--root", str(v2m_set), "--split", "test",
            "--protocol", "d2mgan", "--system", "theirs", "--outputs", str(out / "outputs"),
            "--jobs", "1", "-o", str(tmp_path / "cli")]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| theirs |" in printed and "BCS ↑ | BHS ↑" in printed
    assert main(args) == 0  # resumed: nothing to do, same table
    assert main([*args[:-2], "-o", str(tmp_path / "x"), "--weights", "vggish"]) == 2
    assert "NAME=PATH" in capsys.readouterr().err
    assert main([*args[:7], "--protocol", "vidmuse", "-o", str(tmp_path / "y")]) == 2
    assert "--weights vggish=PATH" in capsys.readouterr().err


def test_bench_v2m_with_a_neural_backend(v2m_set, tmp_path, capsys):
    """The v2m system generating with the musicgen backend (a tiny random model)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import soundfile as sf
    from _tiny_models import save_musicgen

    from v2m._cli import main

    model = save_musicgen(tmp_path / "mg")
    res = benchmark.run(
        dataset="v2m", root=v2m_set, split="test", protocol="loris", out_dir=tmp_path / "nb",
        jobs=1, system={"kind": "v2m", "backend": "musicgen", "model_dir": str(model)},
    )  # fmt: skip
    assert not res.errors and len(res.items) == 3
    for i in range(3):
        y, sr = sf.read(tmp_path / "nb" / "outputs" / f"clip{i}.wav")
        assert sr == 48000 and abs(len(y) / sr - 3.6) < 0.05
    args = ["bench", "--dataset", "v2m", "--root", str(v2m_set), "--protocol", "loris",
            "--backend", "musicgen", "-o", str(tmp_path / "nb2")]  # fmt: skip
    assert main(args) == 2 and "--model-dir" in capsys.readouterr().err


def test_resume_retries_failures_and_survives_corrupt_items(serial_run, v2m_set, tmp_path):
    """A corrupt item file or a failed item runs again; a --limit rerun into a full run's
    folder keeps the other items' results; an existing file as the run folder is refused."""
    out, first = serial_run
    run = tmp_path / "copy"
    shutil.copytree(out, run)
    (run / "items" / "clip0.json").write_text("{not json")
    failed = json.loads((run / "items" / "clip1.json").read_text())
    failed["error"] = "the model folder was missing"
    (run / "items" / "clip1.json").write_text(json.dumps(failed))
    kw = dict(dataset="v2m", root=v2m_set, split="test", protocol="loris", out_dir=run,
              jobs=1, system={"kind": "v2m", "seed": 3})  # fmt: skip
    again = benchmark.run(**kw)
    assert again.ran == 2 and not again.errors
    assert {k: v["values"] for k, v in again.items.items()} == {
        k: v["values"] for k, v in first.items.items()
    }
    limited = benchmark.run(**kw, limit=1)
    assert limited.ran == 0 and len(limited.items) == 3
    assert len(json.loads((run / "results.json").read_text())["items"]) == 3
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ParameterError, match="needs a folder"):
        benchmark.run(**{**kw, "out_dir": afile})


def test_bench_exits_non_zero_when_every_item_fails(v2m_set, tmp_path):
    import subprocess
    import sys

    (tmp_path / "nothing-here").mkdir()  # a system that wrote no outputs
    r = subprocess.run(
        [sys.executable, "-m", "v2m", "bench", "--dataset", "v2m", "--root", str(v2m_set),
         "--split", "test",
         "--protocol", "loris", "--outputs", str(tmp_path / "nothing-here"), "-o",
         str(tmp_path / "run"), "--jobs", "1"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 2 and "every item failed" in r.stderr, r.stderr


def test_a_dead_ray_address_is_a_clear_error_not_a_hang():
    import time

    t0 = time.perf_counter()
    with pytest.raises(ParameterError, match="no Ray cluster answers"):
        benchmark.check_reachable("127.0.0.1:1")
    with pytest.raises(ParameterError, match="HOST:PORT"):
        benchmark.check_reachable("nowhere")
    assert time.perf_counter() - t0 < 15
