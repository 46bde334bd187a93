"""Content hashes: a hash built chunk by chunk is the hash of the whole array."""

from __future__ import annotations

import numpy as np

from posebench.core.hashing import hash_array_chunks, hash_arrays


def test_a_hash_of_chunks_is_the_hash_of_the_whole_array():
    whole = np.random.default_rng(0).random((10, 21, 4)).astype(np.float32)
    parts = [whole[:3], whole[3:7], whole[7:]]
    assert hash_array_chunks(np.float32, whole.shape, parts) == hash_arrays(whole)
    assert hash_array_chunks(np.float32, whole.shape, parts[:2]) != hash_arrays(whole)
    assert hash_array_chunks(np.float64, whole.shape, parts) != hash_arrays(whole)
