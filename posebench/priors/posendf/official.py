"""The official Pose-NDF file layouts: its ``config.yaml`` and its checkpoint's state dict.

An official run directory holds ``config.yaml`` (top-level ``data``/``experiment``/``model``/
``train``) and ``checkpoints/checkpoint_epoch_best.tar`` (a dict with ``model_state_dict``).
Here the official config is translated into posebench's prior config, and official state-dict
keys (``enc.net.<i>.net.<0|2>.<weight|bias>``, ``dfnet.lin<l>.<weight|bias>``) are mapped to and
from posebench's fused model. The official code always uses the ``official_v2`` parent table.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from posebench.body.base import NUM_BODY_JOINTS
from posebench.core.config import read_yaml
from posebench.core.errors import ConfigError, InputError
from posebench.priors.posendf.model import PARENT_TABLES, QUAT_DIM

#: The table the official code (and so every official checkpoint) uses.
OFFICIAL_PARENTS = "official_v2"
_TOP_LEVEL = ("data", "experiment", "model", "train")


def is_official_config(config: Any) -> bool:
    """True for an official Pose-NDF config (a YAML path or a mapping), False otherwise."""
    if isinstance(config, (str, Path)):
        path = Path(config)
        if not path.is_file():
            return False
        config = read_yaml(path)
    if not isinstance(config, Mapping):
        return False
    model = config.get("model")
    if isinstance(model, Mapping) and ("DFNet" in model or "StrEnc" in model):
        return True
    return "experiment" in config and "train" in config


def _get(config: Mapping[str, Any], dotted: str, where: str, default: Any = ...) -> Any:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            if default is not ...:
                return default
            raise ConfigError(
                f"official Pose-NDF config {where} lacks the required key '{dotted}'; use the "
                "config.yaml that came with the checkpoint"
            )
        node = node[part]
    return node


def parse_dims(dims: Any, where: str) -> list[int]:
    """``model.DFNet.dims``: a comma-separated string (as the official code needs) or a list."""
    try:
        if isinstance(dims, str):
            return [int(d) for d in dims.split(",") if d.strip()]
        return [int(d) for d in dims]
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"official Pose-NDF config {where}: model.DFNet.dims {dims!r} is not a list of "
            "integers or a comma-separated string of them"
        ) from exc


def translate_config(config: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """posebench prior-config overrides equivalent to an official config (unused keys ignored)."""
    where = str(config) if isinstance(config, (str, Path)) else "(mapping)"
    data = read_yaml(config) if isinstance(config, (str, Path)) else config
    if not _get(data, "model.StrEnc.use", where, True):
        raise ConfigError(
            f"official Pose-NDF config {where} has model.StrEnc.use false; only the hierarchical "
            "encoder (use: true) is supported, as in the official version2 code"
        )
    in_dim = int(_get(data, "model.DFNet.in_dim", where, 126))
    if in_dim != 126:
        raise ConfigError(
            f"official Pose-NDF config {where}: model.DFNet.in_dim is {in_dim}; the hierarchical "
            "encoder gives 126 (21 joints x 6 features)"
        )
    act = str(_get(data, "model.DFNet.act", where))
    encoder_act = str(_get(data, "model.StrEnc.act", where))
    beta = _get(data, "model.DFNet.beta", where) if act == "softplus" else 100
    encoder_beta = _get(data, "model.StrEnc.beta", where) if encoder_act == "softplus" else 100
    model = {
        "parents": OFFICIAL_PARENTS,
        "dims": parse_dims(_get(data, "model.DFNet.dims", where), where),
        "act": act,
        "encoder_act": encoder_act,
        "beta": float(beta),
        "encoder_beta": float(encoder_beta),
    }
    train: dict[str, Any] = {}
    weights: dict[str, float] = {}
    if (lr := _get(data, "train.optimizer_param", where, None)) is not None:
        train["lr"] = float(lr)
    if (loss := _get(data, "train.loss_type", where, None)) is not None:
        train["loss"] = str(loss)
    for official, ours in (("dist", "dist"), ("man_loss", "man"), ("eikonal", "eikonal")):
        if (value := _get(data, f"train.{official}", where, None)) is not None:
            weights[ours] = float(value)
    if weights:
        train["weights"] = weights
    return {"model": model, "train": train} if train else {"model": model}


def is_official_checkpoint(obj: Any) -> bool:
    """True for an official checkpoint dict (``model_state_dict`` with official key names)."""
    if not isinstance(obj, Mapping) or not isinstance(obj.get("model_state_dict"), Mapping):
        return False
    return any(str(k).startswith(("enc.net.", "dfnet.lin")) for k in obj["model_state_dict"])


def official_keys(parents: tuple[int, ...], n_linear: int) -> list[str]:
    """Every key an official state dict has for this architecture, in the official order."""
    keys = [
        f"enc.net.{j}.net.{i}.{kind}"
        for j in range(len(parents))
        for i in (0, 2)
        for kind in ("weight", "bias")
    ]
    keys += [f"dfnet.lin{layer}.{kind}" for layer in range(n_linear) for kind in ("weight", "bias")]
    return keys


def from_official_state_dict(
    state: Mapping[str, torch.Tensor], reference: Mapping[str, torch.Tensor], where: str
) -> dict[str, torch.Tensor]:
    """Map an official state dict onto posebench's keys; ``reference`` is the target model's
    own state dict (shapes, parent table). Missing, unexpected or mis-shaped keys: one line."""
    parents = PARENT_TABLES[OFFICIAL_PARENTS]
    n_linear = sum(1 for k in reference if k.startswith("dfnet.layers.") and k.endswith(".weight"))
    expected = official_keys(parents, n_linear)
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in set(expected)]
    if missing or unexpected:
        raise InputError(
            f"official checkpoint {where} does not match its config's architecture: "
            f"{len(missing)} missing keys {missing[:4]}, {len(unexpected)} unexpected keys "
            f"{unexpected[:4]}; "
            "use the config.yaml that came with this checkpoint"
        )
    hidden = reference["encoder.b1"].shape[1]
    feature = reference["encoder.b2"].shape[1]
    out: dict[str, torch.Tensor] = {k: v.detach().clone() for k, v in reference.items()}
    w1q, w1f = out["encoder.w1q"], torch.zeros_like(out["encoder.w1f"])
    for j in range(NUM_BODY_JOINTS):
        in_dim = QUAT_DIM if parents[j] < 0 else QUAT_DIM + feature
        w1 = _shaped(state, f"enc.net.{j}.net.0.weight", (hidden, in_dim), where)
        w1q[j] = w1[:, :QUAT_DIM].T
        if parents[j] >= 0:
            w1f[j] = w1[:, QUAT_DIM:].T
        out["encoder.b1"][j] = _shaped(state, f"enc.net.{j}.net.0.bias", (hidden,), where)
        out["encoder.w2"][j] = _shaped(
            state, f"enc.net.{j}.net.2.weight", (feature, hidden), where
        ).T
        out["encoder.b2"][j] = _shaped(state, f"enc.net.{j}.net.2.bias", (feature,), where)
    out["encoder.w1f"] = w1f
    for layer in range(n_linear):
        for kind in ("weight", "bias"):
            ours = f"dfnet.layers.{layer}.{kind}"
            out[ours] = _shaped(
                state, f"dfnet.lin{layer}.{kind}", tuple(reference[ours].shape), where
            )
    return out


def to_official_state_dict(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """posebench's state dict (``official_v2`` parents) in the official key layout."""
    parents = PARENT_TABLES[OFFICIAL_PARENTS]
    out: dict[str, torch.Tensor] = {}
    for j in range(NUM_BODY_JOINTS):
        w1 = state["encoder.w1q"][j].T
        if parents[j] >= 0:
            w1 = torch.cat([w1, state["encoder.w1f"][j].T], dim=1)
        out[f"enc.net.{j}.net.0.weight"] = w1.contiguous()
        out[f"enc.net.{j}.net.0.bias"] = state["encoder.b1"][j].clone()
        out[f"enc.net.{j}.net.2.weight"] = state["encoder.w2"][j].T.contiguous()
        out[f"enc.net.{j}.net.2.bias"] = state["encoder.b2"][j].clone()
    layer = 0
    while f"dfnet.layers.{layer}.weight" in state:
        for kind in ("weight", "bias"):
            out[f"dfnet.lin{layer}.{kind}"] = state[f"dfnet.layers.{layer}.{kind}"].clone()
        layer += 1
    return out


def _shaped(
    state: Mapping[str, torch.Tensor], key: str, shape: tuple[int, ...], where: str
) -> torch.Tensor:
    value = state[key]
    if tuple(value.shape) != tuple(shape):
        raise InputError(
            f"official checkpoint {where}: '{key}' has shape {tuple(value.shape)}, the config's "
            f"architecture needs {tuple(shape)}; use the config.yaml that came with this checkpoint"
        )
    return value.detach()


def find_official_config(checkpoint: Path) -> Path | None:
    """An official ``config.yaml`` beside the checkpoint or one folder up (the run layout)."""
    for folder in (checkpoint.parent, checkpoint.parent.parent):
        candidate = folder / "config.yaml"
        if candidate.is_file() and is_official_config(candidate):
            return candidate
    return None
