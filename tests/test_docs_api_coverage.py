"""Every public name is in the documentation site's API reference.

``docs/check_api_coverage.py`` (run by ``docs/build.sh``) compares the
``__all__`` of the package and its subpackages with ``docs/api.rst``; running
it here too makes an undocumented new public name fail the test suite, which
does not need Sphinx.
"""

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_api_reference_lists_every_public_name():
    result = subprocess.run(
        [sys.executable, str(DOCS / "check_api_coverage.py")],
        capture_output=True,
        text=True,
        cwd=DOCS.parent,
    )
    assert result.returncode == 0, result.stderr + result.stdout
