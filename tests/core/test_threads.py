"""torch_threads: caps torch's CPU threads for a block and always restores them."""

from __future__ import annotations

import pytest
import torch

from posebench.core.threads import torch_threads


def test_caps_the_thread_count_inside_and_restores_it_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), torch_threads(1):
        assert torch.get_num_threads() == 1
        raise RuntimeError("the block failed")
    assert torch.get_num_threads() == before


def test_never_raises_the_count_above_what_it_was():
    before = torch.get_num_threads()
    with torch_threads(before + 8):
        assert torch.get_num_threads() == before
