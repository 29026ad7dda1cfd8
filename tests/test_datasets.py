"""Dataset adapters on miniature replicas of each published layout (file names and fields
as the datasets publish them, 2-3 items each)."""

import json

import pytest

from v2m import InputError, ParameterError, datasets
from v2m._cli import main
from v2m.datasets.adapters import parse_aist_name, symmv_chords


def _write(path, text=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def symmv(tmp_path):
    root = tmp_path / "SymMV"
    _write(
        root / "SymMV.csv",
        "index\tyoutube_url\ttonality\tshazam_id\n"
        "00001\thttps://www.youtube.com/watch?v=SJOKlqJho8U\tC major\t555683241\n"
        "00002\thttps://www.youtube.com/watch?v=TDB3BULhbFk\tC major\n"
        "00009\thttps://www.youtube.com/watch?v=0uljUDtv1Kw\tE- major\t313168772\n",
    )
    _write(root / "chord" / "00001.txt", "220 1760 Am\n1760 2200 FM7\n")
    _write(root / "midi" / "00001.mid", "MThd")
    _write(root / "midi" / "texture" / "00001_new.mid", "MThd")
    _write(root / "midi" / "00002.mid", "MThd")
    _write(root / "video" / "00001.mp4", "x")
    return root


def test_symmv_items_and_coverage(symmv):
    items = list(datasets.items("symmv", symmv))
    assert [i.id for i in items] == ["00001", "00002", "00009"]
    first = items[0]
    assert first.labels == {"tonality": "C major", "shazam_id": "555683241"}
    assert first.source_url.endswith("SJOKlqJho8U") and first.video.endswith("00001.mp4")
    assert set(first.annotations) == {"chord", "texture_midi"}
    assert items[1].labels == {"tonality": "C major"}  # no shazam id on this row
    assert items[2].midi is None and items[2].labels["tonality"] == "E- major"
    cov = datasets.check("symmv", symmv)
    assert cov.splits == {
        "all": {"items": 3, "video": 1, "image": 0, "audio": 0, "midi": 2, "annotations": 1}
    }
    assert any(m.endswith("00002.txt") for m in cov.missing_examples)
    # 220 ticks a beat at 120 BPM: tick 220 is 0.5 s
    assert symmv_chords(symmv / "chord" / "00001.txt") == [(0.5, 4.0, "Am"), (4.0, 5.0, "FM7")]


@pytest.fixture()
def muvi(tmp_path):
    root = tmp_path / "dataset"
    _write(
        root / "vevo_meta" / "idlist.txt",
        "001-Luis Fonsi - Despacito ft. Daddy Yankee\tkJQP7kiw5Fk\n"
        "005-Katy Perry - Roar (Official)\tCevxZvSJLk8\n"
        "011-J Balvin, Willy William - Mi Gente (Official Video)\twnJ6LuUFpMo\n",
    )
    _write(root / "vevo_meta" / "split" / "v1" / "train.txt", "001\n")
    _write(root / "vevo_meta" / "split" / "v1" / "val.txt", "")
    _write(root / "vevo_meta" / "split" / "v1" / "test.txt", "005\n011\n")
    _write(root / "vevo_chord" / "lab_v2_norm" / "all" / "005.lab", "key A minor\n0 N\n1 A:min\n")
    for d in ("vevo_motion", "vevo_scene_offset", "vevo_loudness", "vevo_note_density"):
        _write(root / d / "all" / "005.lab", "0 0.1\n1 0.2\n")
    _write(root / "vevo_emotion" / "6c_l14p" / "all" / "005.lab", "time a b c d e f\n")
    _write(root / "vevo_semantic" / "all" / "2d" / "clip_l14p" / "005.npy", "x")
    _write(root / "vevo" / "005.mp4", "x")
    _write(root / "vevo_audio" / "wav" / "005.wav", "x")
    return root


def test_muvi_sync_splits_labels_and_features(muvi):
    test = list(datasets.items("video2music", muvi, split="test"))
    assert [i.id for i in test] == ["005", "011"]
    roar = test[0]
    assert roar.labels == {"title": "Katy Perry - Roar (Official)", "key": "A minor"}
    assert roar.source_url == "https://www.youtube.com/watch?v=CevxZvSJLk8"
    assert set(roar.annotations) == {
        "chord", "motion", "scene_offset", "loudness", "note_density", "emotion", "clip_l14p"
    }  # fmt: skip
    assert roar.video.endswith("vevo/005.mp4") and roar.audio.endswith("005.wav")
    assert test[1].annotations == {} and test[1].video is None
    cov = datasets.check("muvi-sync", muvi)
    assert cov.splits["train"]["items"] == 1 and cov.splits["test"]["video"] == 1
    assert "val" not in cov.splits  # an empty split file
    _write(muvi / "vevo_meta" / "split" / "v1" / "val.txt", "005\n")
    assert datasets.check("muvi-sync", muvi).problems == ["id 005 is in both val and test"]
    with pytest.raises(ParameterError, match="split='dev'"):
        list(datasets.items("muvi-sync", muvi, split="dev"))


@pytest.fixture()
def aist(tmp_path):
    root = tmp_path / "aist_plusplus_final"
    seqs = ["gBR_sBM_cAll_d04_mBR0_ch01", "gPO_sFM_cAll_d12_mPO3_ch21"]
    _write(root / "splits" / "crossmodal_train.txt", seqs[0] + "\ngHO_sBM_cAll_d19_mHO0_ch01\n")
    _write(root / "splits" / "crossmodal_val.txt", "")
    _write(root / "splits" / "crossmodal_test.txt", seqs[1] + "\n")
    _write(root / "ignore_list.txt", "gHO_sBM_cAll_d19_mHO0_ch01\n")
    for kind in ("motions", "keypoints2d", "keypoints3d"):
        _write(root / kind / f"{seqs[0]}.pkl", "x")
    _write(root / "video" / "gBR_sBM_c01_d04_mBR0_ch01.mp4", "x")
    _write(root / "music" / "mBR0.wav", "x")
    return root


def test_aistpp_names_splits_and_ignore_list(aist):
    assert parse_aist_name("gBR_sBM_cAll_d04_mBR0_ch01") == {
        "genre": "gBR", "situation": "sBM", "camera": "cAll",
        "dancer": "d04", "music": "mBR0", "choreography": "ch01",
    }  # fmt: skip
    with pytest.raises(ParameterError, match="not an AIST"):
        parse_aist_name("gBR_sBM_d04")
    train = list(datasets.items("aist++", aist, split="train"))
    assert [i.id for i in train] == ["gBR_sBM_cAll_d04_mBR0_ch01"]  # the ignored one is gone
    it = train[0]
    assert set(it.annotations) == {"motions", "keypoints2d", "keypoints3d"}
    assert it.video.endswith("gBR_sBM_c01_d04_mBR0_ch01.mp4") and it.audio.endswith("mBR0.wav")
    test = list(datasets.items("aistpp", aist, split="test"))
    assert test[0].labels["genre"] == "gPO" and test[0].audio is None
    assert any(m.endswith("mPO3.wav") for m in test[0].missing)


def test_musiccaps_spans_captions_and_eval_split(tmp_path):
    root = tmp_path / "musiccaps"
    _write(
        root / "musiccaps-public.csv",
        "ytid,start_s,end_s,audioset_positive_labels,aspect_list,caption,author_id,"
        "is_balanced_subset,is_audioset_eval\n"
        "-0Gj8-vB1q4,30,40,\"/m/0140xf,/m/02cjck\",\"['low quality', 'sustained strings']\","
        '"The low quality recording features a ballad song.",4,False,True\n'
        '-0SdAVK79lg,30,40,/m/0155w,"[\'guitar song\']","A guitar plays.",0,False,False\n',
    )
    _write(root / "audio" / "-0SdAVK79lg.wav", "x")
    ev = list(datasets.items("musiccaps", root, split="eval"))
    assert [i.id for i in ev] == ["-0Gj8-vB1q4"]
    assert (ev[0].start_s, ev[0].end_s) == (30.0, 40.0)
    assert ev[0].labels["caption"].startswith("The low quality")
    assert ev[0].labels["audioset_positive_labels"] == "/m/0140xf,/m/02cjck"
    cov = datasets.check("musiccaps", root)
    assert cov.splits["train"]["audio"] == 1 and cov.splits["eval"]["audio"] == 0


def test_cli_list_check_export(symmv, tmp_path, capsys):
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in ("symmv", "muvi-sync", "aistpp", "musiccaps"))
    js = tmp_path / "cov.json"
    assert main(["datasets", "check", "symmv", str(symmv), "--json", str(js)]) == 0
    assert "all" in capsys.readouterr().out
    assert json.loads(js.read_text())["splits"]["all"]["items"] == 3
    jl = tmp_path / "items.jsonl"
    assert main(["datasets", "export", "symmv", str(symmv), "-o", str(jl)]) == 0
    rows = [json.loads(x) for x in jl.read_text().splitlines()]
    assert len(rows) == 3 and rows[0]["id"] == "00001"
    keys = ["id", "split", "video", "image", "audio", "midi", "source_url", "start_s", "end_s"]
    assert list(rows[0]) == [*keys, "labels", "annotations"]
    assert main(["datasets", "export", "symmv", str(symmv), "-o", str(jl)]) == 2  # no clobber
    assert main(["datasets", "check", "nope", str(symmv)]) == 2
    assert "unknown" in capsys.readouterr().err
    assert main(["datasets", "check", "symmv", str(tmp_path / "missing")]) == 2
    with pytest.raises(InputError, match="SymMV.csv"):
        list(datasets.items("symmv", tmp_path))
