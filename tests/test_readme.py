"""The README's quickstart runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_quickstart_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README lost its quickstart"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    printed = capsys.readouterr().out
    scores = [float(s) for s in re.findall(r"R² = (-?[\d.]+)", printed)]
    assert len(scores) == 3
    # The point of the package: the multi-task model beats both baselines.
    assert scores[2] > max(scores[:2])


def _setup_commands():
    section = README.read_text().split("## Two commands", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_setup_is_two_commands_that_exist():
    commands = _setup_commands()
    assert commands == ["python benchmarks/school.py", "python -m pytest"]
    ci = (README.parent / ".ci" / "run").read_text()
    assert "python3 benchmarks/school.py" in ci and "python3 -m pytest" in ci


def test_first_run_installs_nothing_when_all_is_there(monkeypatch):
    import subprocess
    import sys

    # "All is there" includes the neural extra the main job installs.
    pytest.importorskip("torch")
    pytest.importorskip("skorch")

    bootstrap = README.parent / "benchmarks" / "_bootstrap.py"
    code = (
        f"import sys; sys.path.insert(0, {str(bootstrap.parent)!r}); "
        "import _bootstrap; _bootstrap.ensure_installed(); print('ready')"
    )
    # SKLEARN_MTL_NO_INSTALL: were anything missing, it would stop, not install.
    env = {"SKLEARN_MTL_NO_INSTALL": "1", "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert result.stdout.strip() == "ready", result.stderr
    # The documented pins are the ones it would install.
    monkeypatch.syspath_prepend(str(bootstrap.parent))
    import _bootstrap

    text = README.read_text()
    assert f"torch=={_bootstrap.TORCH_VERSION}`" in text
    commands = _bootstrap.install_commands(torch_missing=True, package_missing=True)
    assert commands[0][-1] == f"torch=={_bootstrap.TORCH_VERSION}"
    assert commands[-1][-2:] == ["-e", f"{_bootstrap.REPO}[neural,test]"]
