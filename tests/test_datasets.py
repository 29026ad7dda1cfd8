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


def test_d2mgan_segments_paired_by_stem_from_foreign_prefixes(tmp_path):
    root = tmp_path / "aistplus"
    seg = ["gPO_sBM_c01_d11_mPO1_ch02_seg1", "gLH_sBM_c01_d17_mLH4_ch02_seg2"]
    # D2M-GAN's lists: relative to the authors' working folder (CDCD's are absolute paths)
    _write(
        root / "dataset" / "aist_audio_test_segment.txt",
        "".join(f"./aistplus/audio_s2/test/{s}.wav\n" for s in seg),
    )
    _write(
        root / "dataset" / "aist_motion_test_segment.txt",
        "".join(f"/data/zhuye/aistplus/motion_s2/test/{s}.npy\n" for s in seg),
    )
    # the video list in another order: paired by name, and reported
    _write(
        root / "dataset" / "aist_video_test_segment.txt",
        "".join(f"./aistplus/video_s2/test/{s}.npy\n" for s in reversed(seg)),
    )
    for s in seg:
        _write(root / "audio_s2" / "test" / f"{s}.wav", "x")
        _write(root / "motion_s2" / "test" / f"{s}.npy", "x")
        _write(root / "video_s2" / "test" / f"{s}.npy", "x")
    items = list(datasets.items("d2mgan-aist", root, split="test"))
    assert [i.id for i in items] == seg
    first = items[0]
    assert first.audio == str(root / "audio_s2" / "test" / f"{seg[0]}.wav")
    assert first.annotations == {
        "motion": str(root / "motion_s2" / "test" / f"{seg[0]}.npy"),
        "video_features": str(root / "video_s2" / "test" / f"{seg[0]}.npy"),
    }
    assert first.labels["segment"] == 1 and first.labels["segment_length_s"] == 2.0
    assert first.labels["source"] == "gPO_sBM_c01_d11_mPO1_ch02"
    assert first.labels["genre"] == "gPO" and first.labels["camera"] == "c01"
    probs = datasets.check("d2mgan-aist", root, split="test").problems
    assert len(probs) == 1 and "2 video line(s)" in probs[0] and "line 1" in probs[0]
    with pytest.raises(InputError, match="aist_audio_train_segment.txt"):
        list(datasets.items("d2mgan-aist", root, split="train"))


def test_loris_pose_lists_without_seg_suffix_pair_with_their_segments(tmp_path):
    """LORIS's fe_pose2d_s50 lists name ``{recording}.npy`` where the audio and I3D lists
    name ``{recording}_seg0``: the pose belongs to the segment of that recording."""
    root = tmp_path / "LORIS"
    recs = ["xHBUIt-airA_003193_003315", "C5Yfd1IWjmM_002895_002996"]
    pre = "yourpath/dataset/LORIS/fe"
    lists = root / "data" / "fe"
    _write(
        lists / "fe_audio_s50_test_segment.txt",
        "".join(f"{pre}/audio_s50/{r}_seg0.wav\n" for r in recs),
    )
    _write(
        lists / "fe_i3d_s50_test_segment.txt",
        "".join(f"{pre}/i3d_s50/{r}_seg0.npy\n" for r in recs),
    )
    _write(
        lists / "fe_pose2d_s50_test_segment.txt",
        "".join(f"{pre}/pose2d_s50/{r}.npy\n" for r in recs),
    )
    for r in recs:
        _write(root / "fe" / "audio_s50" / f"{r}_seg0.wav", "x")
        _write(root / "fe" / "i3d_s50" / f"{r}_seg0.npy", "x")
    _write(root / "fe" / "pose2d_s50" / f"{recs[0]}.npy", "x")
    items = list(datasets.items("loris-fe-s50", root, split="test"))
    assert [i.id for i in items] == [f"{r}_seg0" for r in recs]
    a, b = items
    assert a.annotations["pose2d"] == str(root / "fe" / "pose2d_s50" / f"{recs[0]}.npy")
    assert a.annotations["i3d_features"].endswith(f"i3d_s50/{recs[0]}_seg0.npy")
    assert a.labels["youtube_id"] == "xHBUIt-airA" and a.labels["segment_length_s"] == 50.0
    assert a.source_url == "https://www.youtube.com/watch?v=xHBUIt-airA"
    assert "pose2d" not in b.annotations  # its pose file is not there
    assert any(m.endswith(f"pose2d_s50/{recs[1]}.npy") for m in b.missing)
    assert datasets.check("loris-fe-s50", root, split="test").problems == []


def test_v2m_jsonl_splits_sidecar_and_rerooted_paths(tmp_path):
    root = tmp_path / "V2M"
    rec = {
        "path": "/home/someone/VidMuse/dataset/V2M/audio/dQw4w9WgXcQ_no_vocals.wav",
        "video_path": "/home/someone/VidMuse/dataset/V2M/video/dQw4w9WgXcQ.mp4",
        "duration": 30.0, "sample_rate": 32000, "amplitude": None, "weight": None,
        "info_path": None,
    }  # fmt: skip
    other = dict(rec, path="audio/abcdefghijk.wav", video_path="video/abcdefghijk.mp4")
    _write(root / "test" / "data.jsonl", json.dumps(rec) + "\n" + json.dumps(other) + "\n")
    _write(root / "audio" / "dQw4w9WgXcQ_no_vocals.wav", "x")
    _write(
        root / "audio" / "dQw4w9WgXcQ_no_vocals.json",
        json.dumps({"genre": "trailer", "moods": ["epic"], "bpm": "120", "extra": 1}),
    )
    _write(root / "video" / "dQw4w9WgXcQ.mp4", "x")
    items = list(datasets.items("v2m", root))
    assert [(i.id, i.split) for i in items] == [("dQw4w9WgXcQ", "test"), ("abcdefghijk", "test")]
    first = items[0]
    assert first.audio == str(root / "audio" / "dQw4w9WgXcQ_no_vocals.wav")
    assert first.video == str(root / "video" / "dQw4w9WgXcQ.mp4")
    assert first.labels == {
        "duration_s": 30.0, "genre": "trailer", "moods": ["epic"], "bpm": "120"
    }  # fmt: skip
    assert items[1].audio is None and str(root / "audio" / "abcdefghijk.wav") in items[1].missing
    _write(root / "test" / "data.jsonl", "{not json\n")
    with pytest.raises(InputError, match="line 1 is not JSON"):
        list(datasets.items("vidmuse", root))


def test_music_and_urmp_layouts(tmp_path):
    music = tmp_path / "MUSIC"
    _write(
        music / "MUSIC21_solo_videos.json",
        json.dumps({"videos": {"accordion": ["cbHsgQO_A2E"], "erhu": ["ZQZ2FcF8_ug"]}}),
    )
    _write(
        music / "MUSIC_duet_videos.json",
        json.dumps({"videos": {"acoustic_guitar violin": ["H0ZgK8tTnPg", "cbHsgQO_A2E"]}}),
    )
    _write(music / "video" / "accordion" / "cbHsgQO_A2E.mp4", "x")
    items = list(datasets.items("music21", music))
    assert [i.id for i in items] == ["cbHsgQO_A2E", "ZQZ2FcF8_ug", "H0ZgK8tTnPg"]  # once each
    assert items[0].video.endswith("accordion/cbHsgQO_A2E.mp4") and items[0].audio is None
    assert items[2].labels["instruments"] == ["acoustic_guitar", "violin"]

    urmp = tmp_path / "URMP"
    d = urmp / "01_Jupiter_vn_vc"
    for f in (
        "AuMix_01_Jupiter_vn_vc.wav", "AuSep_1_vn_01_Jupiter.wav", "AuSep_2_vc_01_Jupiter.wav",
        "Notes_1_vn_01_Jupiter.txt", "F0s_1_vn_01_Jupiter.txt", "Sco_01_Jupiter_vn_vc.mid",
        "Vid_01_Jupiter_vn_vc.mp4",
    ):  # fmt: skip
        _write(d / f, "x")
    _write(urmp / "02_Sonata_vn_vn" / "AuMix_02_Sonata_vn_vn.wav", "x")
    _write(urmp / "Supplementary_Files" / "readme.txt", "x")
    pieces = list(datasets.items("urmp", urmp))
    assert [p.id for p in pieces] == ["01_Jupiter_vn_vc", "02_Sonata_vn_vn"]
    j = pieces[0]
    assert j.labels == {"number": 1, "title": "Jupiter", "instruments": ["vn", "vc"]}
    assert j.midi.endswith("Sco_01_Jupiter_vn_vc.mid") and j.video.endswith(".mp4")
    assert set(j.annotations) == {
        "AuSep_1_vn_01_Jupiter", "AuSep_2_vc_01_Jupiter", "Notes_1_vn_01_Jupiter",
        "F0s_1_vn_01_Jupiter",
    }  # fmt: skip
    assert j.missing == []
    assert pieces[1].video is None and any("2 of 2 AuSep" in m for m in pieces[1].missing)


def _emomv(tmp_path):
    """EmoMV's repository layout: rows copied from its annotation files."""
    root = tmp_path / "EmoMV"
    a = root / "DS1_EmoMV_A"
    _write(
        a / "annotation" / "DS1_TEST_MATCH_MISMATCH_labels.csv",
        "Dataset1/DS1_TEST_MATCH/,exciting_EXT_S1(0),1,exciting,exciting,0,0\n"
        "Dataset1/DS1_TEST_MATCH/,sad_REVIEW_SAD (19),1,sad,sad,3,3\n"
        "Dataset1/DS1_TEST_MISMATCH/,exciting_ORG_EXT(154)_PAIR_fear_TEST_FEAR(6)-3-of-7,0,"
        "exciting,fear,0,1\n",
    )
    _write(a / "extracted_features" / "VGGish_DS1_TEST_MATCH_MISMATCH.h5", "x")
    _write(a / "extracted_features" / "SlowFast_DS1_TEST_MATCH_MISMATCH.h5", "x")
    _write(root / "Dataset1" / "DS1_TEST_MATCH" / "exciting_EXT_S1(0).mp4", "x")
    _write(
        root / "DS2_EmoMV_B" / "annotation" / "DS2_VAL_MATCH_MISMATCH_labels.csv",
        "Dataset2/DS2_val_match/,7ZIKT6L83ak,1,exciting,exciting,0,0\n"
        "Dataset2/DS2_val_mismatch/,5_emFE1nk4o_PAIR_B3q2wHpzhoM,0,exciting,fear,0,1\n",
    )
    _write(
        root / "DS3_EmoMV_C" / "annotation" / "DS3_VAL_MATCH_MISMATCH_labels.csv",
        "Dataset3/DS3_val_match/,TmSRMWw8Y_0_03,1,Exciting,Exciting,0,0\n"
        "Dataset3/DS3_val_mismatch/,ZvyNOg4jSRg_02_PAIR_WIUAC03YMlA_08,0,Exciting,Fear,0,1\n",
    )
    return root


def test_emomv_sets_columns_pairs_and_youtube_ids(tmp_path):
    root = _emomv(tmp_path)
    items = list(datasets.items("emomv", root))
    assert [i.id for i in items] == [
        "A/exciting_EXT_S1(0)", "A/sad_REVIEW_SAD (19)",
        "A/exciting_ORG_EXT(154)_PAIR_fear_TEST_FEAR(6)-3-of-7",
        "B/7ZIKT6L83ak", "B/5_emFE1nk4o_PAIR_B3q2wHpzhoM",
        "C/TmSRMWw8Y_0_03", "C/ZvyNOg4jSRg_02_PAIR_WIUAC03YMlA_08",
    ]  # fmt: skip
    assert [i.split for i in items] == ["test"] * 3 + ["val"] * 4
    first, pair = items[0], items[2]
    assert first.video.endswith("Dataset1/DS1_TEST_MATCH/exciting_EXT_S1(0).mp4")
    assert set(first.annotations) == {"labels", "slowfast", "vggish"}
    assert first.labels["row"] == 0 and pair.labels["row"] == 2  # the feature rows
    assert pair.labels["matched"] is False and pair.video is None
    assert (pair.labels["video_segment"], pair.labels["music_segment"]) == (
        "exciting_ORG_EXT(154)",
        "fear_TEST_FEAR(6)-3-of-7",
    )
    assert (pair.labels["video_emotion_id"], pair.labels["music_emotion_id"]) == (0, 1)
    assert first.source_url is None  # MVED segments have no YouTube id
    assert items[4].source_url == "https://www.youtube.com/watch?v=5_emFE1nk4o"
    c = items[5]  # a YouTube id with "_" in it, then the segment number
    assert c.source_url == "https://www.youtube.com/watch?v=TmSRMWw8Y_0"
    assert c.labels["segment"] == 3 and c.labels["video_emotion"] == "Exciting"
    # one set, by name or by pointing at its folder; B and C have no test split
    assert [i.id for i in datasets.items("emomv-c", root)] == [i.id for i in items[5:]]
    assert len(list(datasets.items("emomv", root / "DS2_EmoMV_B"))) == 2
    with pytest.raises(ParameterError, match="split='test'"):
        list(datasets.items("emomv-b", root, split="test"))
    cov = datasets.check("emomv", root)
    assert cov.splits["test"]["items"] == 3 and cov.splits["test"]["video"] == 1
    assert cov.problems == []


def test_emomv_bad_rows_are_named(tmp_path):
    root = _emomv(tmp_path)
    labels = root / "DS3_EmoMV_C" / "annotation" / "DS3_VAL_MATCH_MISMATCH_labels.csv"
    labels.write_text(labels.read_text() + "Dataset3/DS3_val_match/,x_01,1,Sad,Relax,3,4\n")
    assert datasets.check("emomv-c", root).problems == [
        "C/x_01: marked matched but the emotions are Sad and Relax"
    ]
    labels.write_text("Dataset3/DS3_val_match/,x_01,1,Sad\n")
    with pytest.raises(InputError, match="line 1 has 4 columns"):
        list(datasets.items("emomv-c", root))
    with pytest.raises(InputError, match="DS1_EmoMV_A"):
        list(datasets.items("emomv-a", tmp_path))


# ---------------------------------------------------------------- garbled files (real rows)

SYMMV_HEAD = "index\tyoutube_url\ttonality\tshazam_id\n"
SYMMV_ROW = "00001\thttps://www.youtube.com/watch?v=SJOKlqJho8U\tC major\t555683241\n"
MUVI_ROW = "001-Luis Fonsi - Despacito ft. Daddy Yankee\tkJQP7kiw5Fk\n"
CAPS_HEAD = ("ytid,start_s,end_s,audioset_positive_labels,aspect_list,caption,author_id,"
             "is_balanced_subset,is_audioset_eval\n")  # fmt: skip
CAPS_ROW = '-0SdAVK79lg,30,40,/m/0155w,"[\'guitar song\']","A guitar plays.",0,False,False\n'
V2M_REC = {"path": "audio/dQw4w9WgXcQ.wav", "video_path": "video/dQw4w9WgXcQ.mp4",
           "duration": 30.0, "sample_rate": 32000}  # fmt: skip


def _garbled_cases():
    latin = (SYMMV_HEAD + SYMMV_ROW.replace("C major", "Dó maior")).encode("latin-1")
    yield "symmv non-UTF-8", "symmv", {"SymMV.csv": latin}, ["SymMV.csv", "line 2", "UTF-8"]
    yield ("symmv cut mid-URL", "symmv",
           {"SymMV.csv": SYMMV_HEAD + SYMMV_ROW + "00002\thttps://www.you"},
           ["SymMV.csv", "line 3", "columns"])  # fmt: skip
    yield ("symmv header renamed", "symmv",
           {"SymMV.csv": SYMMV_HEAD.replace("youtube_url", "url") + SYMMV_ROW},
           ["SymMV.csv", "line 1", "youtube_url"])  # fmt: skip
    yield ("symmv columns swapped", "symmv",
           {"SymMV.csv": "index\ttonality\tyoutube_url\tshazam_id\n" + SYMMV_ROW},
           ["SymMV.csv", "line 2", "not a URL"])  # fmt: skip
    yield ("symmv commas", "symmv",
           {"SymMV.csv": (SYMMV_HEAD + SYMMV_ROW).replace("\t", ",")},
           ["SymMV.csv", "separated by ','"])  # fmt: skip
    muvi = {"vevo_meta/split/v1/train.txt": "001\n", "vevo_meta/split/v1/val.txt": "",
            "vevo_meta/split/v1/test.txt": ""}  # fmt: skip
    yield ("muvi idlist non-UTF-8", "muvi-sync",
           {**muvi, "vevo_meta/idlist.txt": "001-Caf\xe9\tkJQP7kiw5Fk\n".encode("latin-1")},
           ["idlist.txt", "line 1", "UTF-8"])  # fmt: skip
    yield ("muvi idlist truncated", "muvi-sync",
           {**muvi, "vevo_meta/idlist.txt": MUVI_ROW + "002-Ed Sheeran - Shape of You\tJGwW"},
           ["idlist.txt", "line 2"])  # fmt: skip
    yield ("muvi idlist swapped", "muvi-sync",
           {**muvi, "vevo_meta/idlist.txt": "kJQP7kiw5Fk\t001-Luis Fonsi - Despacito\n"},
           ["idlist.txt", "line 1"])  # fmt: skip
    yield ("musiccaps bad number", "musiccaps",
           {"musiccaps-public.csv": CAPS_HEAD + CAPS_ROW.replace(",30,40,", ",10s,40,")},
           ["musiccaps-public.csv", "line 2", "10s"])  # fmt: skip
    yield ("musiccaps short row", "musiccaps",
           {"musiccaps-public.csv": CAPS_HEAD + "-0SdAVK79lg,30,40\n"},
           ["musiccaps-public.csv", "line 2"])  # fmt: skip
    yield ("musiccaps cut in a quoted field", "musiccaps",
           {"musiccaps-public.csv": CAPS_HEAD + CAPS_ROW + '-0Gj8-vB1q4,30,40,"/m/01'},
           ["musiccaps-public.csv", "line 3"])  # fmt: skip
    yield ("musiccaps columns missing", "musiccaps",
           {"musiccaps-public.csv": "ytid,start_s\n-0SdAVK79lg,30\n"},
           ["musiccaps-public.csv", "missing column"])  # fmt: skip
    yield ("v2m line not an object", "v2m", {"test/data.jsonl": "[1, 2]\n"},
           ["data.jsonl", "line 1", "object"])  # fmt: skip
    yield ("v2m bad duration", "v2m",
           {"test/data.jsonl": json.dumps(dict(V2M_REC, duration="1:00")) + "\n"},
           ["data.jsonl", "line 1", "duration"])  # fmt: skip
    yield ("v2m path not text", "v2m",
           {"test/data.jsonl": json.dumps(dict(V2M_REC, path=5)) + "\n"},
           ["data.jsonl", "line 1", "path"])  # fmt: skip
    yield ("v2m garbled sidecar", "v2m",
           {"test/data.jsonl": json.dumps(V2M_REC) + "\n", "audio/dQw4w9WgXcQ.wav": "x",
            "audio/dQw4w9WgXcQ.json": '{"genre": "tra'},
           ["dQw4w9WgXcQ.json", "not JSON"])  # fmt: skip
    solo = json.dumps({"videos": {"accordion": ["cbHsgQO_A2E"]}})
    yield ("music truncated", "music", {"MUSIC_solo_videos.json": solo[:-5]},
           ["MUSIC_solo_videos.json", "not JSON"])  # fmt: skip
    yield ("music a list", "music", {"MUSIC_solo_videos.json": "[]"},
           ["MUSIC_solo_videos.json", "'videos'"])  # fmt: skip
    yield ("music key renamed", "music",
           {"MUSIC_solo_videos.json": solo.replace("videos", "clips")},
           ["MUSIC_solo_videos.json", "'videos'"])  # fmt: skip
    yield ("music ids as a string", "music",
           {"MUSIC_solo_videos.json": json.dumps({"videos": {"erhu": "ZQZ2FcF8_ug"}})},
           ["MUSIC_solo_videos.json", "YouTube ids"])  # fmt: skip
    yield "urmp empty root", "urmp", {"readme.txt": "x"}, ["no items"]


@pytest.mark.parametrize("case", list(_garbled_cases()), ids=lambda c: c[0])
def test_garbled_files_get_one_line_naming_file_and_line(case, tmp_path, capsys):
    _name, dataset, files, wants = case
    root = tmp_path / "root"
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    assert main(["datasets", "check", dataset, str(root)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for w in wants:
        assert w in err, (w, err)


def test_v2m_reads_data_jsonl_gz(tmp_path):
    import gzip

    root = tmp_path / "V2M" / "test"
    root.mkdir(parents=True)
    (root / "data.jsonl.gz").write_bytes(gzip.compress((json.dumps(V2M_REC) + "\n").encode()))
    items = list(datasets.items("v2m", tmp_path / "V2M"))
    assert [(i.id, i.split) for i in items] == [("dQw4w9WgXcQ", "test")]


def test_d2mgan_in_the_authors_layout_and_a_list_cut_short(tmp_path):
    """The authors' checkout: lists in dataset/, media at dataset/<line> (their loaders
    read it so); given the checkout or its dataset/ folder, the media are found. A list
    whose last line is cut short is an error naming the line."""
    seg = ["gPO_sBM_c01_d11_mPO1_ch02_seg1", "gLH_sBM_c01_d17_mLH4_ch02_seg2"]
    repo = tmp_path / "D2M-GAN"
    _write(repo / "dataset" / "aist_audio_test_segment.txt",
           "".join(f"./aistplus/audio_s2/test/{s}.wav\n" for s in seg))  # fmt: skip
    for s in seg:
        _write(repo / "dataset" / "aistplus" / "audio_s2" / "test" / f"{s}.wav", "x")
    for root in (repo, repo / "dataset"):
        items = list(datasets.items("d2mgan-aist", root, split="test"))
        assert [i.id for i in items] == seg
        assert all(i.audio and i.audio.endswith(".wav") and not i.missing for i in items), root
    cut = f"./aistplus/audio_s2/test/{seg[0]}.wav\n./aistplus/audio_s2/test/gLH_sBM_c01_d1"
    _write(repo / "dataset" / "aist_audio_test_segment.txt", cut)
    with pytest.raises(InputError, match=r"aist_audio_test_segment.txt: line 2: .*cut short"):
        list(datasets.items("d2mgan-aist", repo, split="test"))


def test_v2m_published_id_lists(tmp_path):
    root = tmp_path / "V2M"
    _write(root / "V2M-bench.txt", "dQw4w9WgXcQ\n9bZkp7q19f0\n")
    _write(root / "V2M-20k.txt", "kJQP7kiw5Fk\n")
    _write(root / "video" / "dQw4w9WgXcQ.mp4", "x")
    items = list(datasets.items("v2m", root))
    assert sorted((i.split, i.id) for i in items) == [
        ("bench", "9bZkp7q19f0"), ("bench", "dQw4w9WgXcQ"), ("v2m-20k", "kJQP7kiw5Fk")]  # fmt: skip
    assert [i.id for i in datasets.items("v2m", root, split="bench") if i.video] == ["dQw4w9WgXcQ"]
    _write(root / "V2M-bench.txt", "dQw4w9WgXcQ\nnot an id at all\n")
    with pytest.raises(InputError, match=r"V2M-bench.txt: line 2"):
        list(datasets.items("v2m", root, split="bench"))


def test_aistpp_truncated_split_file_names_file_and_line(aist):
    _write(aist / "splits" / "crossmodal_test.txt", "gPO_sFM_cAll_d12_mPO3_ch21\ngPO_sBM_cAll\n")
    with pytest.raises(InputError, match=r"crossmodal_test.txt: line 2: .*gPO_sBM_cAll"):
        list(datasets.items("aist++", aist, split="test"))
