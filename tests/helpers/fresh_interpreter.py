"""What a fresh Python interpreter imports: checks that a module stays light."""

from __future__ import annotations

import json
import subprocess
import sys

LOADED_MODULES = (
    "import json, sys, importlib; importlib.import_module(sys.argv[1]); "
    "print(json.dumps(sorted(m for m in sys.modules if m.startswith('mlcl_text'))))"
)


def loaded_modules(module: str) -> list[str]:
    """The ``mlcl_text`` modules a fresh interpreter holds after importing ``module``."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED_MODULES, module],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
