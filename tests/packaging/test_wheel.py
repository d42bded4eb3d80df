"""The install path without krew: `pipx install kubectl-eckrc`. `python -m build` makes an sdist
and a wheel with complete metadata; the wheel installs into a fresh virtualenv whose console
script kubectl finds as `kubectl eckrc`.

Only the project itself is installed into the fresh virtualenv (`--no-deps --no-index`): its
dependencies come, unchanged, from this test virtualenv through a path entry, because
resolving them from an index would make the suite need the network. What that leaves out,
the resolver's choice of versions, is covered by checking that every Requires-Dist of the
wheel is satisfied by what the fresh virtualenv imports. The build runs without isolation
(setuptools and build from the test extra) for the same reason.
"""

from __future__ import annotations

import email
import email.message
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from kubectl_eckrc import __version__
from tests.parallel import made_once

ROOT = Path(__file__).resolve().parents[2]
# what the sdist is made from; copied so that the build's egg-info and build/ directories land
# in a private directory, not in a checkout other test sessions may be building in
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "kubectl_eckrc")


def build_sdist_and_wheel(directory: Path) -> None:
    source = directory / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = directory / "dist"
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and wheel, built once per test session however many workers ask."""
    return made_once(tmp_path_factory, "wheel-build", build_sdist_and_wheel) / "dist"


def wheel_of(dist: Path) -> Path:
    (wheel,) = dist.glob("kubectl_eckrc-*.whl")
    return wheel


def wheel_metadata(dist: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel_of(dist)) as archive:
        return email.message_from_bytes(archive.read(f"kubectl_eckrc-{__version__}.dist-info/METADATA"))


def test_build_makes_an_sdist_and_a_wheel_of_this_version(built: Path) -> None:
    names = sorted(p.name for p in built.iterdir())
    assert names == [f"kubectl_eckrc-{__version__}-py3-none-any.whl", f"kubectl_eckrc-{__version__}.tar.gz"]


def test_sdist_carries_the_readme_license_and_sources_but_no_tests(built: Path) -> None:
    with tarfile.open(built / f"kubectl_eckrc-{__version__}.tar.gz") as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {"PKG-INFO", "README.md", "LICENSE", "pyproject.toml", "kubectl_eckrc/cli.py"} <= names
    assert not [n for n in names if n.startswith("tests/")]


def test_wheel_metadata_is_complete(built: Path) -> None:
    meta = wheel_metadata(built)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (meta["Name"], meta["Version"]) == ("kubectl-eckrc", __version__)
    assert meta["Summary"] == project["description"]
    assert meta["License-Expression"] == "Apache-2.0" and meta["License-File"] == "LICENSE"
    assert meta["Requires-Python"] == ">=3.11"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().startswith("# kubectl eckrc")  # type: ignore[union-attr]
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(urls)
    classifiers = meta.get_all("Classifier") or []
    assert "Operating System :: Microsoft :: Windows" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    runtime = sorted(r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r)
    assert runtime == sorted(str(Requirement(d)) for d in project["dependencies"])


def test_wheel_declares_the_kubectl_eckrc_console_script(built: Path) -> None:
    with zipfile.ZipFile(wheel_of(built)) as archive:
        entry_points = archive.read(f"kubectl_eckrc-{__version__}.dist-info/entry_points.txt").decode()
        assert "[console_scripts]\nkubectl-eckrc = kubectl_eckrc.cli:main" in entry_points
        assert not [n for n in archive.namelist() if n.startswith("tests/")]


def install_wheel_in_a_fresh_venv(wheel: Path, directory: Path) -> None:
    venv = directory / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv_program(venv, "python")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, timeout=120, capture_output=True)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, timeout=60, capture_output=True, text=True).stdout.strip()
    # a plain path line: the test virtualenv's own .pth files (its editable install of this
    # checkout above all) are not run, so `kubectl_eckrc` can only come from the wheel
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "zz_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")


@pytest.fixture(scope="session")
def fresh_venv(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with only the wheel installed in it, the dependencies on a path entry."""
    wheel = wheel_of(built)
    made = made_once(tmp_path_factory, "wheel-venv", lambda into: install_wheel_in_a_fresh_venv(wheel, into))
    return made / "fresh"


def venv_program(venv: Path, name: str) -> Path:
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    return scripts / (name + ".exe" if os.name == "nt" else name)


def clean_env(path: list[Path | str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(map(str, path))
    return env


def test_fresh_venv_imports_the_installed_wheel_and_its_declared_dependencies(fresh_venv: Path) -> None:
    probe = (
        "import importlib.metadata as md, kubectl_eckrc\n"
        "from packaging.requirements import Requirement\n"
        "print(kubectl_eckrc.__file__)\n"
        "for line in md.distribution('kubectl-eckrc').requires or []:\n"
        "    req = Requirement(line)\n"
        "    if req.marker is None or req.marker.evaluate():\n"
        "        found = md.version(req.name)\n"
        "        assert req.specifier.contains(found, prereleases=True), (req, found)\n"
    )
    # run from the virtualenv: `-c` puts the working directory (a checkout) first on sys.path
    result = subprocess.run([str(venv_program(fresh_venv, "python")), "-c", probe], capture_output=True,
                            text=True, timeout=60, env=clean_env([]), cwd=fresh_venv)
    assert result.returncode == 0, result.stderr[-2000:]
    assert Path(result.stdout.strip()).is_relative_to(fresh_venv)


def test_kubectl_runs_the_pipx_style_install_as_kubectl_eckrc(fresh_venv: Path) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is not on PATH"
    bin_dir = venv_program(fresh_venv, "kubectl-eckrc").parent
    env = clean_env([bin_dir, Path(kubectl).parent])
    result = subprocess.run([kubectl, "eckrc", "version"], capture_output=True, text=True, timeout=60,
                            env=env, cwd=fresh_venv)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"kubectl-eckrc {__version__} (") and "python package" in result.stdout
