"""Reading VPoser checkpoints: posebench's own files and the official v2 / v1 releases.

* posebench: ``{"format": "posebench-vposer", "format_version": 1, "architecture", "model"
  (a state dict), "training", ...}`` written by :meth:`VPoserPrior.save`.
* VPoser v2 "V02_05" (``V02_05_epoch=13_val_loss=0.03.ckpt``): a PyTorch-Lightning checkpoint, a
  dict whose ``state_dict`` holds the weights under the prefix ``vp_model.`` (plus the trainer's
  body-model buffers ``bm_train.*``, dropped here). Keys as in the official v2 model.
* VPoser v1 (``vposer_v1_0/snapshots/TR00_E096.pt``): a plain ``torch.save(state_dict)`` with
  ``bodyprior_enc_*`` / ``bodyprior_dec_*`` keys.

Lightning checkpoints also pickle the run's hyper-parameters (omegaconf, Lightning classes) that a
posebench installation need not have, and that ``torch.load(weights_only=True)`` refuses. Such
files are read with a restricted unpickler that rebuilds tensors and plain containers and turns
every other class into an inert placeholder: no foreign code runs and nothing extra is needed.
"""

from __future__ import annotations

import pickle
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from posebench.core.errors import InputError

FORMAT = "posebench-vposer"
FORMAT_VERSION = 1
V2_PREFIX = "vp_model."
V2_MODULES = ("encoder_net.", "decoder_net.")
V1_PREFIX = "bodyprior_"

#: Globals the restricted unpickler resolves for real; everything else becomes a placeholder.
_REAL_GLOBALS = {
    ("collections", "OrderedDict"),
    ("torch", "Size"),
    ("torch", "device"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor_v3"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "slice"),
}


class _Placeholder:
    """Stands in for an unpickled object of a class posebench does not load (e.g. omegaconf)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs

    def __setstate__(self, state: Any) -> None:
        self.state = state

    # list- and dict-like pickles call these while rebuilding
    def append(self, item: Any) -> None:
        self.__dict__.setdefault("items", []).append(item)

    def extend(self, items: Any) -> None:
        self.__dict__.setdefault("items", []).extend(items)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__dict__.setdefault("mapping", {})[key] = value


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _REAL_GLOBALS:
            return super().find_class(module, name)
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        return type(name, (_Placeholder,), {"__module__": f"placeholder.{module}"})


_restricted_pickle = types.ModuleType("posebench_restricted_pickle")
_restricted_pickle.Unpickler = _RestrictedUnpickler  # type: ignore[attr-defined]
_restricted_pickle.load = lambda f, **kw: _RestrictedUnpickler(f, **kw).load()  # type: ignore[attr-defined]


def read_file(path: str | Path) -> Any:
    """``torch.load`` a checkpoint on the CPU: weights-only first, then the restricted reader."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"VPoser checkpoint {path} does not exist; check --checkpoint")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        pass  # pickled non-tensor objects (Lightning hyper-parameters): read them inertly
    except Exception as exc:
        raise InputError(f"cannot read VPoser checkpoint {path}: {_first_line(exc)}") from None
    try:
        return torch.load(
            path, map_location="cpu", weights_only=False, pickle_module=_restricted_pickle
        )
    except Exception as exc:
        raise InputError(f"cannot read VPoser checkpoint {path}: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _tensors(mapping: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in mapping.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}


def v02_05_state_dict(state_dict: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The network's weights from a V02_05 ``state_dict``: ``vp_model.`` stripped, only the
    ``encoder_net.`` / ``decoder_net.`` keys kept (the official loader's rule)."""
    out = {}
    for key, value in _tensors(state_dict).items():
        name = key[len(V2_PREFIX) :] if key.startswith(V2_PREFIX) else key
        if name.startswith(V2_MODULES):
            out[name] = value
    return out


def identify(data: Any, path: str | Path) -> tuple[str, dict[str, torch.Tensor], dict[str, Any]]:
    """``(architecture, state dict, extra)`` of a loaded checkpoint, or a one-line InputError.

    ``extra`` is posebench's own metadata (training record, config) or, for official files,
    ``{"source": "official V02_05" | "official v1"}`` and the Lightning epoch when present.
    """
    if isinstance(data, Mapping) and data.get("format") == FORMAT:
        if data.get("format_version") != FORMAT_VERSION:
            raise InputError(
                f"VPoser checkpoint {path} has format version {data.get('format_version')}; this "
                f"posebench reads version {FORMAT_VERSION}: retrain with 'posebench train --prior "
                "vposer'"
            )
        extra: dict[str, Any] = {
            k: v for k, v in data.items() if k not in ("model", "format", "format_version")
        }
        missing = [key for key in ("architecture", "model") if key not in data]
        if missing:
            raise InputError(
                f"VPoser checkpoint {path} has no {' and no '.join(map(repr, missing))}; the file "
                "is incomplete: save or train it again"
            )
        return str(data["architecture"]), _tensors(data["model"]), extra
    if isinstance(data, Mapping) and isinstance(data.get("state_dict"), Mapping):
        weights = v02_05_state_dict(data["state_dict"])
        if weights:
            extra = {"source": "official V02_05"}
            if isinstance(data.get("epoch"), int):
                extra["epoch"] = data["epoch"]
            return "v2", weights, extra
    if isinstance(data, Mapping):
        tensors = _tensors(data)
        if any(k.startswith(V1_PREFIX) for k in tensors):
            return (
                "v1",
                {k: v for k, v in tensors.items() if k.startswith(V1_PREFIX)},
                {"source": "official v1"},
            )
        if any(k.startswith(V2_MODULES) for k in tensors):  # a bare v2 state dict
            return "v2", v02_05_state_dict(tensors), {"source": "v2 state dict"}
    raise InputError(
        f"{path} is not a VPoser checkpoint: expected a posebench 'vposer' file, an official "
        "V02_05 .ckpt (weights under 'state_dict' with prefix 'vp_model.') or a v1 TR00_E096.pt"
    )


def fill_batch_counters(
    state_dict: dict[str, torch.Tensor], expected: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Add BatchNorm ``num_batches_tracked`` counters a file lacks (older PyTorch,
    marks them optional): they only matter for momentum-free BN, which VPoser does not use."""
    out = dict(state_dict)
    for key, value in expected.items():
        if key.endswith("num_batches_tracked") and key not in out:
            out[key] = torch.zeros_like(value)
    return out
