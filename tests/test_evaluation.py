import json

import numpy as np
import pytest
import synth

import v2m
from v2m._cli import main
from v2m.composition import compose
from v2m.cuesheet import make_cue
from v2m.evaluation import confidence_interval, evaluate_files
from v2m.pipeline import score


def test_confidence_interval_known_answer():
    mean, half = confidence_interval(np.array([1.0, 2.0, 3.0, 4.0]))
    # t(0.975, 3) = 3.182446; s = 1.290994; half = t * s / 2
    assert mean == 2.5 and half == pytest.approx(3.182446 * 1.290994 / 2, rel=1e-5)


def test_eval_folder_of_midi_with_a_bad_file(tmp_path):
    d = tmp_path / "gen"
    d.mkdir()
    for seed in range(3):
        compose(make_cue(duration_s=20, style="pop", seed=seed)).save(d / f"s{seed}.mid")
    (d / "broken.mid").write_bytes(b"MThd garbage")
    out = tmp_path / "rep.json"
    assert main(["eval", "--generated", str(d), "-o", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert len(rep["files"]) == 3 and list(rep["errors"]) == [str(d / "broken.mid")]
    assert rep["summary"]["scale_consistency"]["n"] == 3
    assert rep["summary"]["scale_consistency"]["mean"] > 0.9
    assert "si_short" not in rep["summary"]  # opt-in: it renders every file
    assert (tmp_path / "rep.csv").read_text().startswith("file,")
    assert "| scale_consistency |" in (tmp_path / "rep.md").read_text()
    assert main(["eval", "--generated", str(d), "-o", str(out)]) == 2  # no clobber
    si = tmp_path / "si.json"
    argv = ["eval", "--generated", str(d), "-o", str(si), "--metrics", "si_short,scale_consistency"]
    assert main([*argv, "--jobs", "1"]) == 0
    rep = json.loads(si.read_text())
    assert 0 < rep["summary"]["si_short"]["mean"] <= 1  # structure of the rendered MIDI
    assert set(rep["summary"]) == {"si_short", "scale_consistency"}
    assert (
        main(["eval", "--generated", str(d), "-o", str(tmp_path / "x.json"), "--metrics", "nope"])
        == 2
    )


def test_eval_scored_video_and_reference(tmp_path):
    vid = synth.cuts_video(tmp_path / "v.mp4", cut_frames=(30, 70, 110, 160), n_frames=200)
    gen = tmp_path / "gen"
    gen.mkdir()
    res = score(vid, output=gen / "v.mp4", style="pop", seed=0, cue=gen / "v.cue.json")
    score(vid, output=tmp_path / "ref.wav", style="pop", seed=0)
    rep = evaluate_files(gen / "v.mp4", reference=tmp_path / "ref.wav")
    vals = rep.files[str(gen / "v.mp4")]
    assert vals["heard_cut_beat_hit_rate_70ms"] >= 0.75
    # written: the cue sheet beside it, the same figure as score's own report
    s = res.projection.summary()
    assert vals["written_cut_beat_hit_rate_35ms"] == pytest.approx(
        s["cuts_on_beat_35ms"] / s["n_cuts"]
    )
    assert "↑" in rep.to_markdown() and "what it measures" in rep.to_markdown()
    # the same music as the reference: onsets cover and hit everything
    assert vals["bhs_loris"] == pytest.approx(1.0) and vals["bcs_loris"] == pytest.approx(1.0)
    assert 0 <= vals["av_align"] <= 1


def test_eval_audio_paired_with_videos_by_name(tmp_path):
    vids = tmp_path / "videos"
    vids.mkdir()
    vid = synth.cuts_video(vids / "clip.mp4", cut_frames=(30, 80, 130), n_frames=180)
    gen = tmp_path / "gen"
    gen.mkdir()
    score(vid, output=gen / "clip.wav", style="electronic", seed=2)
    (gen / "unpaired.wav").write_bytes((gen / "clip.wav").read_bytes())
    rep = evaluate_files(gen, videos=vids)
    paired = rep.files[str(gen / "clip.wav")]
    assert paired["heard_cut_beat_hit_rate_70ms"] >= 2 / 3
    assert "beat_align_score_music" in paired or "av_align" in paired
    assert "heard_cut_beat_hit_rate_70ms" not in rep.files[str(gen / "unpaired.wav")]


def test_eval_dance_keys_and_the_videos_own_soundtrack(tmp_path, monkeypatch):
    """A video filmed with its music: its soundtrack is the BCS/BHS reference and, when the
    analysis finds a body, the kinematic beat align scores rate music against its beats."""
    import dataclasses

    import v2m.analysis
    from v2m.evaluation import _beats, load_audio

    vids = tmp_path / "videos"
    vids.mkdir()
    silent = synth.cuts_video(tmp_path / "silent.mp4", cut_frames=(40, 120), n_frames=200)
    score(silent, output=vids / "clip.mp4", style="pop", seed=1)  # the dance with its music
    gen = tmp_path / "gen"
    gen.mkdir()
    score(silent, output=gen / "clip.wav", style="pop", seed=1)  # the same music, as audio
    beats = _beats(load_audio(gen / "clip.wav")[0])
    assert beats.size > 8

    real_analyze = v2m.analysis.analyze

    def with_body(offset_s):
        def analyze(path, **kw):
            tl = real_analyze(path, **kw)
            kb = [{"time_s": float(t + offset_s), "strength": 1.0} for t in beats]
            return dataclasses.replace(tl, kinematics={"beats": kb})

        return analyze

    scores, chance = {}, {}
    for offset in (0.0, 0.25):
        monkeypatch.setattr(v2m.analysis, "analyze", with_body(offset))
        vals = evaluate_files(gen, videos=vids).files[str(gen / "clip.wav")]
        scores[offset] = vals["kinematic_beat_align_score"]
        chance[offset] = vals["kinematic_beat_align_score_chance"]
        # the video's own soundtrack is the reference: the same music covers and hits it all
        assert vals["bhs_loris"] == pytest.approx(1.0) and vals["bcs_loris"] == pytest.approx(1.0)
        assert vals["beat_f_measure"] > 0.9
    # body beats on the music's beats score ~1 (AIST++'s Gaussian, sigma 3 frames at 25 fps);
    # a quarter second off scores far less
    assert scores[0.0] > 0.95 and scores[0.25] < 0.5
    # the chance level does not depend on where the body's beats lie, only on the music
    assert chance[0.0] == pytest.approx(chance[0.25], abs=0.03)
    assert scores[0.25] < chance[0.0] < scores[0.0] - 0.3

    monkeypatch.setattr(v2m.analysis, "analyze", real_analyze)
    vals = evaluate_files(gen, videos=vids).files[str(gen / "clip.wav")]
    assert "kinematic_beat_align_score" not in vals  # no body, no dance keys


def test_eval_in_worker_processes_equals_serial(tmp_path):
    d = tmp_path / "gen"
    d.mkdir()
    for seed in range(6):
        style = ("pop", "folk", "piano")[seed % 3]
        compose(make_cue(duration_s=12, style=style, seed=seed)).save(d / f"s{seed}.mid")
    (d / "broken.mid").write_bytes(b"MThd garbage")
    serial = evaluate_files(d, jobs=1)
    parallel = evaluate_files(d, jobs=2)
    assert list(parallel.files) == list(serial.files) and len(serial.files) == 6
    assert parallel.files == serial.files and parallel.errors == serial.errors
    with pytest.raises(v2m.ParameterError, match="jobs=0"):
        evaluate_files(d, jobs=0)


def test_structure_indicator_of_a_long_midi_is_left_out_before_rendering(tmp_path):
    """A MIDI file longer than the scape plot takes gets a note, and is not rendered (its
    memory would follow its time span)."""
    import time

    import mido

    mf = mido.MidiFile()
    mf.tracks.append(mido.MidiTrack([
        mido.Message("note_on", note=60, velocity=80, time=0),
        mido.Message("note_off", note=60, time=480),
        mido.Message("note_on", note=64, velocity=80, time=480 * 2 * 60 * 30),  # 30 min on
        mido.Message("note_off", note=64, time=480),
    ]))  # fmt: skip
    f = tmp_path / "long.mid"
    mf.save(f)
    t0 = time.perf_counter()
    rep = evaluate_files(f, metrics=["si_short", "pitch_entropy"])
    assert time.perf_counter() - t0 < 30
    assert "left out" in rep.notes[str(f)] and "si_short" not in rep.files[str(f)]
