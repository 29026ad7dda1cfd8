"""BlazePose on real frames, the pose probe and the timeline's pose keys."""

import json

import numpy as np
import pytest
from synth import SHARED

from v2m.analysis import analyze
from v2m.analysis.pose import (
    PoseEstimator,
    _runtime_notes_dropped,
    find_models,
    landmarks_only,
    pose_available,
    ssd_anchors,
)
from v2m.errors import InputError
from v2m.timeline import SCHEMA_VERSION as TL_SCHEMA
from v2m.timeline import Timeline

DANCER = SHARED / "video" / "dancer.avi"
needs_pose = pytest.mark.skipif(not pose_available(), reason="pose extra not installed")


def test_anchor_layout_matches_the_detector():
    a = ssd_anchors()
    assert a.shape == (2254, 2)
    # first layer: 28 x 28 cells, 2 anchors each, centres at (x + 0.5) / 28
    np.testing.assert_allclose(a[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(a[2], [1.5 / 28, 0.5 / 28])
    # last block: 7 x 7 cells of the three stride-32 layers, 6 anchors each
    np.testing.assert_allclose(a[-1], [6.5 / 7, 6.5 / 7])
    assert 28 * 28 * 2 + 14 * 14 * 2 + 7 * 7 * 6 == 2254


def test_a_folder_without_the_models_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="pose_detection.tflite"):
        find_models(tmp_path)


def test_runtime_info_lines_are_dropped_and_other_native_output_kept(capfd):
    """What native code writes on descriptor 2 passes through, except the runtime's INFO
    line (it interleaved with the report on every run)."""
    import os

    with _runtime_notes_dropped():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"ERROR: a real problem\n")
    err = capfd.readouterr().err
    assert "XNNPACK" not in err and "ERROR: a real problem" in err


@needs_pose
def test_loading_the_models_prints_nothing():
    """In a fresh process (the runtime prints its note once per process)."""
    import subprocess
    import sys

    code = "from v2m.analysis.pose import PoseEstimator; PoseEstimator()"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stderr == ""


@needs_pose
def test_the_pruned_landmark_model_gives_the_same_landmarks_and_drops_the_other_heads():
    """The segmentation and heatmap heads go; the points and the presence score stay
    bit-identical on a real crop (and on noise)."""
    pytest.importorskip("ai_edge_litert.schema_py_generated")  # a LiteRT without its schema
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    _, path = find_models()
    full, pruned = path.read_bytes(), landmarks_only(path.read_bytes())
    plain = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES

    def load(content):
        it = Interpreter(model_content=content, experimental_op_resolver_type=plain)
        it.allocate_tensors()
        return it

    a, b = load(full), load(pruned)
    assert len(a.get_output_details()) == 5
    assert sorted(int(np.prod(d["shape"])) for d in b.get_output_details()) == [1, 195]
    assert len(b._get_ops_details()) < 0.8 * len(a._get_ops_details())
    rng = np.random.default_rng(3)
    import cv2

    crops = [rng.random((1, 256, 256, 3), dtype=np.float32)]
    if DANCER.exists():
        import av

        with av.open(str(DANCER)) as c:
            f = next(c.decode(video=0)).to_ndarray(format="rgb24")
        crops.append((cv2.resize(f, (256, 256)).astype(np.float32) / 255.0)[None])
    for x in crops:
        outs = []
        for it in (a, b):
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()
            outs.append(
                {
                    int(np.prod(d["shape"])): it.get_tensor(d["index"]).copy()
                    for d in it.get_output_details()
                }
            )
        for k in (1, 195):
            np.testing.assert_array_equal(outs[0][k], outs[1][k])
    # a model without those outputs (the detector) is left as it is
    det, _ = find_models()
    assert landmarks_only(det.read_bytes()) == det.read_bytes()


@needs_pose
def test_real_model_finds_the_dancer_upright():
    if not DANCER.exists():
        pytest.skip(f"shared clip missing: {DANCER}")
    import av

    with av.open(str(DANCER)) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24")
    est = PoseEstimator()
    pose = est(frame)
    assert pose is not None and pose.score > 0.9
    h = frame.shape[0]
    xy = pose.xy
    # nose above shoulders above hips above knees above ankles, all inside the picture
    ys = [xy[0, 1], xy[11:13, 1].mean(), xy[23:25, 1].mean(), xy[25:27, 1].mean()]
    ys.append(xy[27:29, 1].mean())
    assert all(a < b for a, b in zip(ys, ys[1:], strict=False)), ys
    assert (xy[27:29, 1].mean() - xy[0, 1]) / h > 0.5  # a full body, filmed whole
    assert pose.visibility[[11, 12, 23, 24]].min() > 0.8
    # the second frame is tracked (no new detection)
    assert est(frame) is not None and est.n_detections == 1
    # an empty picture has no body
    est.reset()
    assert est(np.zeros_like(frame)) is None


@needs_pose
def test_dance_video_gets_pose_and_kinematics_in_the_timeline(tmp_path):
    if not DANCER.exists():
        pytest.skip(f"shared clip missing: {DANCER}")
    tl = analyze(DANCER, pose="auto")
    assert tl.pose is not None and tl.kinematics is not None
    assert tl.pose["coverage"] > 0.95 and tl.pose["body_height"] > 0.5
    assert 12.0 <= tl.pose["rate_hz"] <= 25.0
    assert len(tl.pose["landmarks"]) == len(tl.pose["times_s"])
    k = tl.kinematics
    # a minute of slow dancing: ~29 stops clear of the landmarks' jitter (strength >= 0.1)
    assert len(k["beats"]) > 20
    assert min(b["strength"] for b in k["beats"]) >= 0.1
    assert len(k["speed"]) == len(k["intensity"])
    p = tmp_path / "tl.json"
    tl.save(p)
    back = Timeline.load(p)
    assert back.schema_version == TL_SCHEMA and back.kinematics["beats"] == k["beats"]
    # a 1.0 timeline (before pose) still loads
    d = json.loads(p.read_text())
    d["schema_version"] = "1.0"
    for key in ("pose", "kinematics"):
        d.pop(key)
    old = Timeline.from_dict(d)
    assert old.pose is None and old.kinematics is None


@needs_pose
def test_auto_pose_skips_videos_without_a_dominant_body(cuts_mp4):
    tl = analyze(cuts_mp4, pose="auto")
    assert tl.pose is None and tl.kinematics is None


def test_another_variant_missing_from_a_named_folder_names_its_file(tmp_path):
    (tmp_path / "pose_detection.tflite").write_bytes(b"x")
    (tmp_path / "pose_landmark_full.tflite").write_bytes(b"x")
    with pytest.raises(InputError, match="pose_landmark_lite.tflite"):
        find_models(tmp_path, variant="lite")
    assert find_models(tmp_path, variant="full")[1].name == "pose_landmark_full.tflite"


def test_an_unknown_variant_is_a_parameter_error(tmp_path):
    from v2m.errors import ParameterError

    with pytest.raises(ParameterError, match="'tiny'"):
        find_models(tmp_path, variant="tiny")
    with pytest.raises(ParameterError, match="'tiny'"):
        analyze(DANCER, pose_model="tiny")


def test_install_checks_every_file_by_its_hash(tmp_path):
    """A model file that is not the expected release is refused, naming both hashes, and
    nothing is written; a tarball without landmark models is not the npm package."""
    import tarfile

    from v2m.analysis.pose import install_models

    src = tmp_path / "src"
    src.mkdir()
    (src / "pose_landmark_lite.tflite").write_bytes(b"not a model")
    (src / "pose_detection.tflite").write_bytes(b"not a detector")
    dest = tmp_path / "dest"
    with pytest.raises(InputError, match="SHA-256 .* expected"):
        install_models(src, dest=dest)
    assert not dest.exists() or not any(dest.iterdir())
    tgz = tmp_path / "other.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(src / "pose_detection.tflite", arcname="package/readme.txt")
    with pytest.raises(InputError, match="no pose_landmark"):
        install_models(tgz, dest=dest)
    with pytest.raises(InputError, match="no such file"):
        install_models(tmp_path / "missing.tgz", dest=dest)


@needs_pose
def test_installed_models_are_copied_whole_and_found(tmp_path, monkeypatch):
    """The files v2m finds install again into another folder (hash-checked), and that folder
    is where the models are then found."""
    from v2m.analysis.pose import install_models, installed_models

    full = find_models()[1].parent
    written = install_models(full, dest=tmp_path / "pose")
    names = {p.name for p in written}
    assert {"pose_detection.tflite", "pose_landmark_full.tflite"} <= names
    monkeypatch.setenv("V2M_MODELS", str(tmp_path))
    monkeypatch.delenv("V2M_POSE_MODELS", raising=False)
    assert installed_models()["full"] == tmp_path / "pose" / "pose_landmark_full.tflite"


@pytest.mark.skipif(
    not pose_available(variant="lite") or not DANCER.exists(), reason="lite model not installed"
)
def test_the_lite_model_finds_the_same_body():
    """lite and full on the same frames: the same joints within a few percent of the body."""
    from itertools import islice

    import av

    with av.open(str(DANCER)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in islice(c.decode(video=0), 40)]
    lite, full = PoseEstimator(variant="lite"), PoseEstimator(variant="full")
    a = np.array([lite(f).xy for f in frames])
    b = np.array([full(f).xy for f in frames])
    torso = np.linalg.norm(b[:, 11] - b[:, 23], axis=1).mean()
    err = np.linalg.norm(a - b, axis=2)[:, [0, 11, 12, 15, 16, 23, 24, 27, 28]]
    assert np.median(err) < 0.1 * torso
    assert lite.variant == "lite"


def test_one_euro_smooths_a_still_point_and_follows_a_moving_one():
    """Casiez et al.'s filter as MediaPipe runs it on the region: a still point's jitter is
    taken down, a point moving fast is followed closely (little lag)."""
    from v2m.analysis.pose import OneEuro

    rng = np.random.default_rng(0)
    t = np.arange(200) / 12.5
    still = 100.0 + rng.normal(0, 1.0, (200, 2))
    f = OneEuro(min_cutoff=0.01, beta=10.0, derivative_cutoff=1.0)
    out = np.array([f(x, t=ti, scale=50.0) for x, ti in zip(still, t, strict=True)])
    assert out[50:].std() < 0.6 * still[50:].std()
    f.reset()
    moving = np.stack([100.0 + 200.0 * t, np.full_like(t, 100.0)], axis=1)  # 4 sizes a second
    out = np.array([f(x, t=ti, scale=50.0) for x, ti in zip(moving, t, strict=True)])
    assert np.abs(out[50:, 0] - moving[50:, 0]).max() < 0.1 * 200.0  # under 0.1 s behind


@needs_pose
def test_the_probe_note_counts_the_frames_it_looked_at(tmp_path):
    """A video of 3 frames cannot be probed 12 times: the note says how many were."""
    import re

    import synth

    p = synth.write_video(tmp_path / "three.mp4", [synth.shot_image(i) for i in range(3)])
    tl = analyze(p, pose="auto", audio="off")
    note = next(n for n in tl.notes if n.startswith("pose: not tracked"))
    n = int(re.search(r"the probe of (\d+) frame", note).group(1))
    assert 1 <= n <= 3, note
