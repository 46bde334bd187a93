"""Device choice: ``auto`` takes CUDA when present (under torchrun, the process's LOCAL_RANK GPU);
asking for CUDA without one is a clear error."""

from __future__ import annotations

import os
import re
from typing import Any

import torch

from posebench.core.errors import PosebenchError

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` -> a usable torch.device."""
    if not _DEVICE_RE.match(name):
        raise PosebenchError(f"unknown device '{name}'; use auto, cpu, cuda or cuda:N")
    if name == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        local_rank = os.environ.get("LOCAL_RANK", "")  # torchrun: one GPU per process
        if local_rank.isdigit():
            return torch.device(f"cuda:{int(local_rank) % torch.cuda.device_count()}")
        return torch.device("cuda")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise PosebenchError(
                f"--device {name} was asked for, but torch {torch.__version__} sees no CUDA "
                "device; "
                "use --device cpu (or auto)"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise PosebenchError(
                f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) are present"
            )
    return device


def describe_device(device: torch.device) -> dict[str, Any]:
    """What a result records about the device: its type and model name."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return {"type": "cuda", "name": torch.cuda.get_device_name(index), "index": index}
    import platform

    return {
        "type": "cpu",
        "name": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
    }


def synchronize(device: torch.device) -> None:
    """Wait for queued CUDA work, so a timing covers it (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
