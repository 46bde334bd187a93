"""Resuming training: a damaged or foreign training state is a one-line error, never a traceback."""

from __future__ import annotations

import io

import pytest
import torch

from posebench.core.errors import InputError
from posebench.priors.training import restore, resume_state


def _accept(state):
    return None


def _saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def test_a_saved_state_reads_back_and_restores(tmp_path):
    model = torch.nn.Linear(2, 2)
    path = tmp_path / "last.pt"
    path.write_bytes(_saved({"model": model.state_dict(), "step": 3}))
    state = resume_state(path, True, "cpu", _accept)
    assert state is not None and state["step"] == 3
    other = torch.nn.Linear(2, 2)
    restore(state, {"model": other})
    assert torch.equal(other.weight, model.weight)


def test_without_resume_or_file_there_is_nothing_to_resume(tmp_path):
    (tmp_path / "last.pt").write_bytes(b"damaged")
    assert resume_state(tmp_path / "last.pt", False, "cpu", _accept) is None
    assert resume_state(tmp_path / "missing.pt", True, "cpu", _accept) is None


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (lambda: _saved({"step": 1, "model": torch.zeros(100)})[:200], "damaged"),
        (lambda: b"not a torch file", "damaged"),
        (lambda: b"", "damaged"),
        (lambda: _saved([1, 2, 3]), "holds a list"),
    ],
    ids=["truncated", "garbage", "empty", "not-a-dict"],
)
def test_a_damaged_state_is_a_one_line_error_naming_the_file(tmp_path, content, says):
    path = tmp_path / "last.pt"
    path.write_bytes(content())
    with pytest.raises(InputError, match=says) as error:
        resume_state(path, True, "cpu", _accept)
    message = str(error.value)
    assert str(path) in message and "\n" not in message and "--resume" in message
