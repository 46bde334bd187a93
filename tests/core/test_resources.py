"""Memory estimates refuse impossible requests up front; bounded distance blocks change nothing."""

from __future__ import annotations

import pytest
import torch

from posebench.core.errors import ConfigError
from posebench.core.resources import available_memory, require_memory
from posebench.tasks import metrics


def test_a_request_beyond_the_available_memory_is_one_line():
    require_memory(10, "a tiny request", "never shown", available=1024)
    with pytest.raises(ConfigError) as info:
        require_memory(3 * 1024**4, "task 'sample' with 1e13 samples", "lower n_samples", 2**30)
    assert str(info.value) == (
        "task 'sample' with 1e13 samples needs about 3.0 TiB of memory, more than the 1.0 GiB "
        "available here; lower n_samples"
    )


def test_this_machine_reports_its_available_memory():
    available = available_memory()
    assert available is None or available > 0


def test_distance_blocks_of_any_size_give_the_same_precision_and_recall(monkeypatch):
    generator = torch.Generator().manual_seed(0)
    real, fake = torch.randn(300, 5, generator=generator), torch.randn(200, 5, generator=generator)
    whole = metrics.precision_recall(real, fake)
    monkeypatch.setattr(metrics, "MATRIX_ENTRIES", 700)  # a few rows per block
    assert metrics.precision_recall(real, fake) == whole
