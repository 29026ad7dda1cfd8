"""Body pose per frame with BlazePose (MediaPipe's pose detector and full landmark model).

The two TensorFlow Lite models ship inside the ``mediapipe==0.10.21`` wheel
(``modules/pose_detection/pose_detection.tflite`` and
``modules/pose_landmark/pose_landmark_full.tflite``); v2m never downloads them. They are run
by LiteRT (``ai-edge-litert``, the ``pose`` extra), so mediapipe itself is never imported
(install it with ``pip install --no-deps mediapipe==0.10.21``: its numpy pin does not matter
then). A folder holding the two files can be given instead (``model_dir`` or the environment
variable ``V2M_POSE_MODELS``).

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
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError, MissingDependencyError

__all__ = [
    "LANDMARK_NAMES",
    "SKELETON",
    "PoseEstimator",
    "PoseFrame",
    "find_models",
    "pose_available",
]

DETECTOR_FILE = "pose_detection.tflite"
LANDMARK_FILE = "pose_landmark_full.tflite"
MODEL_NAME = "BlazePose full (MediaPipe 0.10.21 models, run by LiteRT)"

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


def _model_dir(model_dir: str | Path | None) -> tuple[Path | None, bool]:
    """The folder to search, and whether the user named it (then a miss is an error)."""
    named = model_dir if model_dir is not None else os.environ.get("V2M_POSE_MODELS")
    if named:
        return Path(named), True
    spec = importlib.util.find_spec("mediapipe")  # locates the package; never imports it
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / "modules", False
    return None, False


def find_models(model_dir: str | Path | None = None) -> tuple[Path, Path]:
    """Paths of the detector and the landmark model.

    Parameters
    ----------
    model_dir : path, optional
        A folder holding ``pose_detection.tflite`` and ``pose_landmark_full.tflite``
        (searched recursively one level). Default: ``$V2M_POSE_MODELS``, else the files
        inside an installed ``mediapipe`` package.

    Raises
    ------
    MissingDependencyError
        When no model files are found; the message says how to get them.
    """
    d, named = _model_dir(model_dir)
    if d is not None:
        det, lmk = _first(d, DETECTOR_FILE), _first(d, LANDMARK_FILE)
        if det is not None and lmk is not None:
            return det, lmk
        if named:
            raise InputError(f"{d}: needs {DETECTOR_FILE} and {LANDMARK_FILE} (pose models)")
    raise MissingDependencyError(
        "pose estimation needs the BlazePose model files that ship in the mediapipe wheel: "
        "pip install 'v2m[pose]' && pip install --no-deps mediapipe==0.10.21 "
        "(or set V2M_POSE_MODELS to a folder holding "
        f"{DETECTOR_FILE} and {LANDMARK_FILE}); v2m never downloads them"
    )


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


def pose_available(model_dir: str | Path | None = None) -> bool:
    """True when the runtime and the model files are both installed."""
    try:
        _interpreter_class()
        find_models(model_dir)
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
    y down); ``visibility`` shape (33,) in 0..1; ``score`` the pose-presence score.
    """

    xy: np.ndarray
    visibility: np.ndarray
    score: float


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
    num_threads : int
        Threads for each model (LiteRT with XNNPACK).

    Call the instance on each RGB frame in order; it returns a :class:`PoseFrame` or None
    when no person is found. :meth:`reset` forgets the tracked region (after a cut).
    """

    def __init__(self, *, model_dir: str | Path | None = None, num_threads: int = 1):
        interp_cls = _interpreter_class()
        det_path, lmk_path = find_models(model_dir)
        try:
            self._det = interp_cls(model_path=str(det_path), num_threads=num_threads)
            self._lmk = interp_cls(model_path=str(lmk_path), num_threads=num_threads)
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
            raise InputError(f"{lmk_path}: not the BlazePose full landmark model")
        self._lmk_points, self._lmk_flag = by_size[195], by_size[1]
        self._anchors = ssd_anchors()
        self._track: tuple[np.ndarray, np.ndarray, float] | None = None
        self.n_detections = 0

    def reset(self) -> None:
        """Forget the tracked person (the next frame runs the detector)."""
        self._track = None

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
        return frame, _roi(xy[33], xy[34])

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

    def __call__(self, rgb: np.ndarray) -> PoseFrame | None:
        """The pose in one RGB uint8 frame of shape (h, w, 3), or None."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image, got {rgb.shape} {rgb.dtype}")
        tracked = self._track is not None
        roi = self._track if tracked else self.detect(rgb)
        if roi is None:
            return None
        frame, nxt = self.landmarks(rgb, roi)
        if frame.score < _MIN_PRESENCE and tracked:  # lost the person: detect afresh
            roi = self.detect(rgb)
            if roi is not None:
                frame, nxt = self.landmarks(rgb, roi)
        if roi is None or frame.score < _MIN_PRESENCE:
            self._track = None
            return None
        self._track = nxt
        return frame
