"""First run on a fresh machine: install what the package and its tests need.

Imported by the main job (``benchmarks/school.py``) before anything outside
the standard library, so that ``python benchmarks/school.py`` works on a
machine with nothing but Python. When ``sklearn_mtl`` (from this checkout),
torch, skorch or pytest cannot be imported, it runs, with the Python that runs
it::

    python -m pip install "torch==2.13.0"
    python -m pip install -e "<this checkout>[neural,test]"

torch is pinned to the release whose CPU wheel the project's machines hold:
an unpinned torch on Linux pulls a multi-GB CUDA build. Elsewhere, install a
CPU build of torch first (PyTorch's "CPU" install instructions); an installed
torch of any version is kept. Set
``SKLEARN_MTL_NO_INSTALL=1`` to forbid installing (a missing package then
stops with the commands to run by hand).
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TORCH_VERSION = "2.13.0"


def _missing(names):
    return [name for name in names if importlib.util.find_spec(name) is None]


def _package_is_this_checkout():
    spec = importlib.util.find_spec("sklearn_mtl")
    if spec is None or spec.origin is None:
        return False
    return Path(spec.origin).resolve().is_relative_to(REPO)


def install_commands(torch_missing, package_missing):
    """The pip commands that bring this Python up to date."""
    pip = [sys.executable, "-m", "pip", "install"]
    commands = []
    if torch_missing:
        commands.append(pip + [f"torch=={TORCH_VERSION}"])
    if package_missing:
        commands.append(pip + ["-e", f"{REPO}[neural,test]"])
    return commands


def ensure_installed():
    """Install the package and its test and neural extras when missing."""
    torch_missing = bool(_missing(["torch"]))
    package_missing = (
        bool(_missing(["numpy", "scipy", "sklearn", "skorch", "pytest", "pandas"]))
        or not _package_is_this_checkout()
    )
    commands = install_commands(torch_missing, package_missing)
    if not commands:
        return
    shown = "\n".join("  " + " ".join(command) for command in commands)
    if os.environ.get("_SKLEARN_MTL_INSTALLED"):
        sys.exit(f"Still missing after installing; this Python cannot see:\n{shown}")
    if os.environ.get("SKLEARN_MTL_NO_INSTALL"):
        sys.exit(f"Missing packages; SKLEARN_MTL_NO_INSTALL is set. Run:\n{shown}")
    print(f"First run: installing what is missing:\n{shown}", file=sys.stderr)
    for command in commands:
        if subprocess.call(command) != 0:
            sys.exit(
                "Installing failed (see pip's message above). If this Python does "
                "not allow installing packages, make a virtual environment first:\n"
                "  python -m venv .venv && . .venv/bin/activate\n"
                "and run this script again from it."
            )
    importlib.invalidate_caches()
    # A package installed while this process runs is importable only in a new one.
    print("Installed; starting the main job.", file=sys.stderr, flush=True)
    os.environ["_SKLEARN_MTL_INSTALLED"] = "1"  # no second round if pip misled us
    os.execv(sys.executable, [sys.executable, *sys.argv])
