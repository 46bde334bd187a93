"""Third-party plugins found through real entry points: a wheel built here, installed by pip.

The wheel carries tests/plugins/toy_plugin.py as the package ``posebench_toy`` with
``[posebench] toy = posebench_toy`` in its entry_points.txt; pip installs it into a temporary
folder, which is then put on the path, so discovery goes through importlib.metadata as for any
``pip install their-prior``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from posebench import plugins

TOY_SOURCE = Path(__file__).parent / "plugins" / "toy_plugin.py"


def build_wheel(folder: Path, dist: str, version: str, package: str, source: str) -> Path:
    """A minimal, valid pure-Python wheel with one package and a posebench entry point."""
    info = f"{dist.replace('-', '_')}-{version}.dist-info"
    files = {
        f"{package}/__init__.py": source,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: posebench-tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{info}/entry_points.txt": f"[posebench]\n{package.split('_')[-1]} = {package}\n",
    }
    record = []
    for name, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    path = folder / f"{dist.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """pip-install the toy plugin wheel and a broken one into a fresh target folder."""
    folder = tmp_path_factory.mktemp("wheels")
    wheels = [
        build_wheel(folder, "posebench-toy", "0.3.0", "posebench_toy", TOY_SOURCE.read_text()),
        build_wheel(folder, "posebench-broken", "0.0.1", "posebench_broken",
                    "raise ImportError('needs a package that is not installed')\n"),
    ]  # fmt: skip
    target = folder / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--disable-pip-version-check", "--target", str(target), *map(str, wheels)],
        check=True,
    )  # fmt: skip
    return target


@pytest.fixture
def on_path(installed, monkeypatch) -> Path:
    monkeypatch.syspath_prepend(str(installed))
    monkeypatch.delenv(plugins.LOAD_PLUGINS_ENV, raising=False)
    plugins.reset()
    return installed


def test_entry_point_plugin_is_discovered_with_its_distribution(on_path):
    entry = plugins.get("prior", "toy-gauss")
    assert entry.plugin.distribution == "posebench-toy"
    assert entry.plugin.version == "0.3.0"
    assert entry.as_dict()["plugin"] == "posebench-toy"
    assert "toy-energy-gap" in plugins.get_registry().names("task")


def test_broken_plugin_is_skipped_and_reported(on_path):
    plugins.get_registry()
    assert [name for name, _ in plugins.failed_plugins] == ["broken"]
    assert "needs a package that is not installed" in plugins.failed_plugins[0][1]


@pytest.mark.parametrize(
    ("allow", "loaded"),
    [("", False), ("posebench-toy", True), ("toy", True), ("some-other-plugin", False)],
)
def test_load_plugins_allow_list(on_path, monkeypatch, allow, loaded):
    monkeypatch.setenv(plugins.LOAD_PLUGINS_ENV, allow)
    plugins.reset()
    assert ("toy-gauss" in plugins.get_registry().names("prior")) is loaded


def posebench_command() -> list[str]:
    """The installed console script (what users type); ``python -m posebench`` if not installed."""
    script = Path(sys.executable).with_name("posebench")
    return [str(script)] if script.exists() else [sys.executable, "-m", "posebench"]


def run_command(args: list[str], site: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop(plugins.LOAD_PLUGINS_ENV, None)
    return subprocess.run([*posebench_command(), *args], capture_output=True, text=True, env=env,
                          cwd=cwd)  # fmt: skip


@pytest.mark.slow
def test_installed_plugin_appears_in_plugins_json_and_runs(installed, tmp_path):
    listing = run_command(["plugins", "--json"], installed, tmp_path)
    assert listing.returncode == 0, listing.stderr
    entries = {(e["kind"], e["name"]): e for e in json.loads(listing.stdout)}
    for key in [("prior", "toy-gauss"), ("task", "toy-energy-gap"), ("dataset", "toy-poses"),
                ("body_model", "toy-stick")]:  # fmt: skip
        assert entries[key]["plugin"] == "posebench-toy"
        assert entries[key]["version"] == "0.3.0"
    assert "plugin 'broken' failed to load" in listing.stderr

    result = run_command(
        ["run", "--prior", "toy-gauss", "--task", "toy-energy-gap", "--dataset", "toy-poses",
         "--body-model", "toy-stick", "--quick", "--out", "out"],
        installed, tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = tmp_path / "out/toy-poses/toy-stick/toy-energy-gap@default/toy-gauss/seed0.quick.json"
    assert json.loads(written.read_text())["metrics"]["energy_gap"] > 0


@pytest.mark.slow
def test_main_job_runs_end_to_end_at_quick_size(installed, tmp_path):
    """The README's main command, CI-sized: Pose-NDF denoising on the embedded default."""
    result = run_command(["run", "--prior", "posendf", "--task", "denoise", "--quick",
                          "--device", "cpu", "--quiet"], installed, tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = tmp_path / "results/embedded/anny/denoise@humor/posendf/seed0.quick.json"
    record = json.loads(written.read_text())
    assert record["prior"]["checkpoint"].endswith("posendf_embedded.pt")
    assert record["metrics"]["mpjpe_mm"] < record["metrics"]["noisy_mpjpe_mm"]
