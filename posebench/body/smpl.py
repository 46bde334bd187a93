"""The ``smpl`` body backend: a user's own SMPL / SMPL+H / SMPL-X file, posed through smplx.

``--body-model smpl --body-model-path DIR`` (or a file). posebench ships no SMPL data: the files
come from https://smpl.is.tue.mpg.de (or smpl-x / mano.is.tue.mpg.de) under MPI's licence, and
the ``smplx`` package (``pip install 'pose-prior-bench[smpl]'``) is under a non-commercial
licence too, so both stay optional.

smplx's SMPL class reads only plain pickles, and the official ``.pkl`` files hold chumpy arrays
(chumpy does not import on current Python). posebench reads the file itself: ``.npz``, or
``.pkl`` through a restricted unpickler that turns chumpy objects and old scipy-sparse matrices
into numpy arrays and refuses every other class (a pickle can run code). The arrays go to smplx
as its ``data_struct``.

SMPL+H and SMPL-X files are posed with their body joints only: hands flat, jaw and eyes at rest.
The first 22 joints are SMPL's body joints in every case.
"""

from __future__ import annotations

import _compat_pickle
import contextlib
import io
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from posebench.body.anny import check_inputs
from posebench.body.base import SMPL22_PARENTS, BodyModel, BodyOutput
from posebench.body.keypoints import SMPL_TO_BODY25, h36m_to_lsp14
from posebench.core.errors import CapabilityNotSupported, InputError, PosebenchError
from posebench.core.version import extra_hint

SMPL_URL = "https://smpl.is.tue.mpg.de"
REQUIRED_KEYS = (
    "v_template",
    "f",
    "shapedirs",
    "posedirs",
    "J_regressor",
    "weights",
    "kintree_table",
)
#: Joint counts of the model families: SMPL 24, SMPL+H 52, SMPL-X 55.
FAMILIES = {24: "SMPL", 52: "SMPL+H", 55: "SMPL-X"}
#: smplx's vertex-id tables by vertex count (SMPL and SMPL+H share a topology).
_TOPOLOGY = {6890: "smplh", 10475: "smplx"}
_EXPECTED = (
    "SMPL_NEUTRAL.pkl or SMPL_NEUTRAL.npz, basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl "
    "(also _MALE/_FEMALE, SMPLH_*/SMPLX_* files, and smpl/ smplh/ smplx/ subfolders)"
)


def _where_to_get() -> str:
    return f"download SMPL from {SMPL_URL} (free registration) and pass --body-model-path DIR"


# --- finding the file ---------------------------------------------------------------------------


def candidate_names(gender: str = "neutral") -> list[str]:
    """File names searched in a model folder, in order of preference."""
    g, G = gender.lower(), gender.upper()
    short = {"neutral": "neutral", "male": "m", "female": "f"}[g]
    names = []
    for prefix in ("SMPL", "SMPLH", "SMPLX"):
        names += [f"{prefix}_{G}.npz", f"{prefix}_{G}.pkl"]
    for version in ("1.1.0", "1.0.0"):
        for stem in ("basicmodel", "basicModel"):
            for who in dict.fromkeys((g, short)):
                names.append(f"{stem}_{who}_lbs_10_207_0_v{version}.pkl")
    return names


def find_model_file(path: str | Path | None, gender: str = "neutral") -> Path:
    """The model file for ``path`` (a file, or a folder searched for the usual names)."""
    if gender.lower() not in ("neutral", "male", "female"):
        raise InputError(f"SMPL gender must be neutral, male or female, got '{gender}'")
    if path is None or str(path) == "":
        raise InputError(
            f"the smpl body model needs its model files: expected {_EXPECTED}; {_where_to_get()}"
        )
    path = Path(path).expanduser()
    if path.is_file():
        return path
    if not path.exists():
        raise InputError(
            f"SMPL model path {path} does not exist: expected a folder with {_EXPECTED}; "
            f"{_where_to_get()}"
        )
    names = candidate_names(gender)
    for folder in (path, path / "smpl", path / "smplh", path / "smplx", path / "models"):
        for name in names:
            if (folder / name).is_file():
                return folder / name
    # AMASS's SMPL+H layout: smplh/neutral/model.npz
    amass_style = path / gender.lower() / "model.npz"
    if amass_style.is_file():
        return amass_style
    raise InputError(f"no SMPL model file in {path}: expected {_EXPECTED}; {_where_to_get()}")


# --- reading the file ---------------------------------------------------------------------------


class _ChumpyArray:
    """Stands in for a chumpy object while unpickling; keeps the state so its value can be read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def value(self) -> np.ndarray:
        if isinstance(self.state, dict) and "x" in self.state:
            return np.asarray(self.state["x"])
        raise ValueError("a chumpy expression other than a plain array (Ch)")


class _SparseMatrix:
    """Stands in for a scipy.sparse matrix of any scipy version while unpickling."""

    format = "csc"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def value(self) -> np.ndarray:
        import scipy.sparse

        s = self.state
        shape = tuple(s.get("_shape", s.get("shape")))
        if self.format == "coo":
            coords = s["coords"] if "coords" in s else (s["row"], s["col"])
            matrix: Any = scipy.sparse.coo_matrix((s["data"], coords), shape=shape)
        else:
            cls = scipy.sparse.csr_matrix if self.format == "csr" else scipy.sparse.csc_matrix
            matrix = cls((s["data"], s["indices"], s["indptr"]), shape=shape)
        return np.asarray(matrix.toarray())


def _sparse_stub(fmt: str) -> type:
    return type(f"_Sparse_{fmt}", (_SparseMatrix,), {"format": fmt})


#: The exact numpy globals an array pickle names (numpy 1 under ``numpy.core``, numpy 2 under
#: ``numpy._core``). Anything else under numpy is refused *before* it is imported: importing some
#: numpy modules runs code (``numpy.f2py.__main__`` runs f2py's command line).
_NUMPY_GLOBALS = frozenset(
    {(f"numpy.{core}.multiarray", name) for core in ("core", "_core")
     for name in ("_reconstruct", "scalar")}
    | {(f"numpy.{core}.numeric", "_frombuffer") for core in ("core", "_core")}
    | {("numpy", name) for name in ("ndarray", "dtype", "float64", "float32", "int64", "int32")}
)  # fmt: skip
_PLAIN_GLOBALS = {
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("_codecs", "encode"),  # how Python 3 writes bytes at pickle protocol 2
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays, plain containers, chumpy arrays and scipy sparse matrices only.

    Only exact (module, name) pairs are imported; chumpy and scipy sparse classes are replaced by
    local stand-ins without importing either library.
    """

    def find_class(self, module: str, name: str) -> Any:
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)  # Python 2 names
        root = module.split(".")[0]
        if (module, name) in _NUMPY_GLOBALS:
            if module.startswith("numpy.core."):  # pickles from numpy < 2
                module = "numpy._core" + module[len("numpy.core") :]
            return super().find_class(module, name)
        if (module, name) in _PLAIN_GLOBALS:
            return super().find_class(module, name)
        if root == "chumpy":
            return _ChumpyArray
        if root == "scipy" and ".sparse" in module and name.endswith("_matrix"):
            fmt = name[: -len("_matrix")]
            if fmt in ("csc", "csr", "coo"):
                return _sparse_stub(fmt)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _to_array(value: Any) -> Any:
    if isinstance(value, (_ChumpyArray, _SparseMatrix)):
        return value.value()
    return value


def read_model_file(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of an SMPL-family model file (.npz, or .pkl with or without chumpy inside)."""
    path = Path(path)
    bad = f"{path} is not a readable SMPL model file"
    arrays: dict[str, Any] = {}
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                for key in REQUIRED_KEYS:
                    if key in data.files:
                        arrays[key] = data[key]
        elif path.suffix == ".pkl":
            with open(path, "rb") as handle:
                loaded = _RestrictedUnpickler(handle, encoding="latin1").load()
            if not isinstance(loaded, dict):
                raise InputError(f"{bad} (a pickle of {type(loaded).__name__}, not a dict)")
            arrays = {key: _to_array(loaded[key]) for key in REQUIRED_KEYS if key in loaded}
        else:
            raise InputError(f"{bad}: expected a .pkl or .npz file ({_EXPECTED})")
    except InputError:
        raise
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise InputError(f"{bad} ({type(exc).__name__}: {exc}); {_where_to_get()}") from None
    except pickle.UnpicklingError as exc:
        raise InputError(f"{bad} ({exc}); {_where_to_get()}") from None
    missing = [key for key in REQUIRED_KEYS if key not in arrays]
    if missing:
        raise InputError(f"{bad}: it lacks {', '.join(missing)}; {_where_to_get()}")
    return _validate({key: np.asarray(value) for key, value in arrays.items()}, path)


def _validate(a: dict[str, np.ndarray], path: Path) -> dict[str, np.ndarray]:
    v, j = a["v_template"].shape[0], a["kintree_table"].shape[-1]
    expected = {
        "v_template": (v, 3),
        "f": (None, 3),
        "shapedirs": (v, 3, None),
        "posedirs": (v, 3, (j - 1) * 9),
        "J_regressor": (j, v),
        "weights": (v, j),
        "kintree_table": (2, j),
    }
    for key, shape in expected.items():
        got = a[key].shape
        if len(got) != len(shape) or any(
            s is not None and s != g for s, g in zip(shape, got, strict=False)
        ):
            want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
            raise InputError(
                f"{path} is not a valid SMPL model file: {key} has shape {got}, expected {want}"
            )
    if j not in FAMILIES:
        raise InputError(f"{path} has {j} joints; SMPL has 24, SMPL+H 52, SMPL-X 55")
    parents = a["kintree_table"][0].astype(np.int64)
    if tuple(int(p) for p in parents[1:22]) != SMPL22_PARENTS[1:]:
        raise InputError(f"{path} does not have SMPL's body joint tree (kintree_table)")
    return a


# --- the body model -------------------------------------------------------------------------------


class SMPLBody(BodyModel):
    """A user's SMPL / SMPL+H / SMPL-X model through smplx (22 body joints, mesh, BODY_25).

    :param path: a model file or a folder holding one (``--body-model-path``); required.
    :param device: where its tensors live.
    :param gender: ``neutral`` (default), ``male`` or ``female``, for folders.
    :param num_betas: shape coefficients used (``shape`` may pass fewer; zero-padded).
    """

    name: ClassVar[str] = "smpl"
    version: ClassVar[str] = "1"

    def __init__(
        self,
        path: str | Path | None = None,
        device: torch.device | str = "cpu",
        gender: str = "neutral",
        num_betas: int = 10,
    ) -> None:
        self.path = find_model_file(path, gender)
        try:
            import smplx
        except ImportError as exc:
            raise PosebenchError(
                f"the smpl body model needs the smplx package ({exc}); install it with "
                f"{extra_hint('smpl')} (smplx is under a non-commercial licence)"
            ) from None
        arrays = read_model_file(self.path)
        self.n_joints = arrays["kintree_table"].shape[1]
        self.family = FAMILIES[self.n_joints]
        n_vertices = arrays["v_template"].shape[0]
        topology = _TOPOLOGY.get(n_vertices)
        from smplx.vertex_ids import vertex_ids as smplx_vertex_ids

        ids = smplx_vertex_ids["smplh"]
        # smplx always picks its extra keypoint vertices; for an unknown topology (e.g. a
        # synthetic test model) let it pick vertex 0 and report no BODY_25
        vertex_ids = smplx_vertex_ids[topology] if topology else dict.fromkeys(ids, 0)
        struct = smplx.utils.Struct(**arrays)
        with contextlib.redirect_stdout(io.StringIO()):  # smplx prints a notice for 10 betas
            self._model = smplx.SMPL(
                str(self.path),
                data_struct=struct,
                num_betas=num_betas,
                vertex_ids=vertex_ids,
                create_betas=False,
                create_global_orient=False,
                create_body_pose=False,
                create_transl=False,
            )
        self._model.requires_grad_(False)
        self.num_betas = self._model.num_betas
        self._has_keypoints = topology is not None
        self._faces = torch.as_tensor(arrays["f"].astype(np.int64))
        self._parents = torch.as_tensor(arrays["kintree_table"][0, :22].astype(np.int64))
        self._parents[0] = -1
        self._body25_index = torch.tensor(SMPL_TO_BODY25)
        self._h36m: torch.Tensor | None = None
        h36m_file = self.path.parent / "J_regressor_h36m.npy"
        if h36m_file.is_file():
            regressor = np.load(h36m_file, allow_pickle=False)
            if regressor.shape != (17, n_vertices):
                raise InputError(
                    f"{h36m_file} has shape {regressor.shape}, expected (17, {n_vertices})"
                )
            self._h36m = torch.as_tensor(regressor, dtype=torch.float32)
        self.to(device)

    @property
    def parents(self) -> torch.Tensor:
        return self._parents

    @property
    def faces(self) -> torch.Tensor:
        return self._faces

    @property
    def device(self) -> torch.device:
        return self._model.v_template.device

    @property
    def dtype(self) -> torch.dtype:
        return self._model.v_template.dtype

    def to(self, device: torch.device | str) -> SMPLBody:
        self._model.to(device)
        self._faces = self._faces.to(device)
        self._parents = self._parents.to(device)
        self._body25_index = self._body25_index.to(device)
        if self._h36m is not None:
            self._h36m = self._h36m.to(device)
        return self

    def forward(
        self,
        pose: torch.Tensor,
        root_orient: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
        shape: torch.Tensor | None = None,
    ) -> BodyOutput:
        """Pose the body: joints (B, 22, 3), vertices (B, V, 3), BODY_25 (B, 25, 3) or None."""
        body_pose, global_orient, transl, betas = self._inputs(pose, root_orient, transl, shape)
        out = self._model(betas=betas, body_pose=body_pose, global_orient=global_orient,
                          transl=transl)  # fmt: skip
        joints = out.joints
        body25 = None
        if self._has_keypoints:
            # smplx appends its vertex keypoints after the model's joints, in the order that
            # SMPL_TO_BODY25 numbers from 24 on
            extended = torch.cat([joints[:, :24], joints[:, self.n_joints : self.n_joints + 11]], 1)
            body25 = extended.index_select(1, self._body25_index)
        return BodyOutput(joints=joints[:, :22], vertices=out.vertices, body25=body25)

    def forward_skeleton(
        self,
        pose: torch.Tensor,
        root_orient: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
        shape: torch.Tensor | None = None,
    ) -> BodyOutput:
        """Joints and BODY_25 without skinning the mesh: forward kinematics of the shaped
        joints, and the 11 keypoint vertices (nose, eyes, ears, feet) posed alone with their
        pose blend shapes; the same values as :meth:`forward`'s up to float rounding."""
        from smplx.lbs import batch_rigid_transform, batch_rodrigues, blend_shapes, vertices2joints

        body_pose, global_orient, transl, betas = self._inputs(pose, root_orient, transl, shape)
        model, batch = self._model, body_pose.shape[0]
        shaped = model.v_template + blend_shapes(betas, model.shapedirs)  # (B, V, 3)
        full_pose = torch.cat([global_orient, body_pose], dim=1)
        rotations = batch_rodrigues(full_pose.reshape(-1, 3)).view(batch, -1, 3, 3)
        posed, transforms = batch_rigid_transform(
            rotations, vertices2joints(model.J_regressor, shaped), model.parents, dtype=shaped.dtype
        )
        body25 = None
        if self._has_keypoints:
            ids = model.vertex_joint_selector.extra_joints_idxs[:11]
            n_vertices = model.v_template.shape[0]
            eye = torch.eye(3, dtype=shaped.dtype, device=shaped.device)
            pose_feature = (rotations[:, 1:] - eye).reshape(batch, -1)  # (B, P)
            blend = model.posedirs.view(-1, n_vertices, 3)[:, ids]  # (P, 11, 3)
            rest = shaped[:, ids] + torch.einsum("bp,pkc->bkc", pose_feature, blend)
            skinning = torch.einsum("kj,bjmn->bkmn", model.lbs_weights[ids], transforms)
            homogeneous = torch.cat([rest, torch.ones_like(rest[..., :1])], dim=-1)
            points = torch.einsum("bkmn,bkn->bkm", skinning, homogeneous)[..., :3]
            extended = torch.cat([posed[:, :24], points], dim=1) + transl[:, None]
            body25 = extended.index_select(1, self._body25_index)
        return BodyOutput(joints=posed[:, :22] + transl[:, None], vertices=None, body25=body25)

    def _inputs(
        self,
        pose: torch.Tensor,
        root_orient: torch.Tensor | None,
        transl: torch.Tensor | None,
        shape: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Checked inputs as smplx takes them: body pose with the hands at rest (B, 3 (J - 1)),
        global orientation and translation (B, 3), and betas (B, num_betas), zero-padded."""
        pose, root_orient, transl = check_inputs(pose, root_orient, transl, self.device)
        batch = pose.shape[0]
        dtype = self._model.v_template.dtype
        pose = pose.to(dtype)
        betas = pose.new_zeros(batch, self.num_betas)
        if shape is not None:
            if (
                not isinstance(shape, torch.Tensor)
                or shape.dim() != 2
                or shape.shape[0] != batch
                or shape.shape[1] > self.num_betas
            ):
                got = (
                    tuple(shape.shape) if isinstance(shape, torch.Tensor) else type(shape).__name__
                )
                raise InputError(
                    f"shape must have shape ({batch}, K) with K <= {self.num_betas}, got {got}"
                )
            if not torch.isfinite(shape).all():
                raise InputError("shape contains NaN or infinite values")
            betas = torch.cat([shape.to(dtype), betas[:, shape.shape[1] :]], dim=1)
        # hands (SMPL's two hand joints, SMPL+H's fingers, SMPL-X's jaw, eyes and fingers) at rest
        rest = pose.new_zeros(batch, 3 * (self.n_joints - 22))
        body_pose = torch.cat([pose.reshape(batch, 63), rest], dim=1)
        global_orient = (
            root_orient.to(dtype) if root_orient is not None else pose.new_zeros(batch, 3)
        )
        transl = transl.to(dtype) if transl is not None else pose.new_zeros(batch, 3)
        return body_pose, global_orient, transl, betas

    def lsp14(self, vertices: torch.Tensor) -> torch.Tensor:
        """The 14 LSP joints (B, 14, 3) from posed vertices, with ``J_regressor_h36m.npy``.

        Needs ``J_regressor_h36m.npy`` (17 x V, e.g. from SPIN's data) next to the model file.
        """
        if self._h36m is None:
            raise CapabilityNotSupported(
                "body model",
                self.name,
                "LSP-14 joints",
                f"put J_regressor_h36m.npy (17 x V) next to {self.path}",
            )
        h36m = torch.einsum("kv,bvd->bkd", self._h36m.to(vertices.dtype), vertices)
        return h36m_to_lsp14(h36m)


def _main() -> None:  # pragma: no cover - a debugging aid: python -m posebench.body.smpl FILE
    body = SMPLBody(sys.argv[1])
    vertices = body(torch.zeros(1, 21, 3)).vertices
    assert vertices is not None  # SMPL bodies always have a mesh
    print(body.family, body.path, tuple(vertices.shape))


if __name__ == "__main__":  # pragma: no cover
    _main()
