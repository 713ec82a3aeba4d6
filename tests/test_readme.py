"""The README's quickstart runs as written."""

import re
from pathlib import Path

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
