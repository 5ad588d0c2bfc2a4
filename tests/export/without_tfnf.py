"""Run a script in a fresh Python process in which importing tfnf is impossible (as under TF Serving)."""

import json
import os
import subprocess
import sys
import textwrap

_PRELUDE = textwrap.dedent(
    """
    import json, sys
    sys.modules["tfnf"] = None  # importing tfnf must be impossible here
    import numpy as np
    import tensorflow as tf
    try:
        import tfnf  # noqa: F401
        raise SystemExit("tfnf was importable")
    except ImportError:
        pass
    """
)


def run_without_tfnf(body, args, workdir):
    """Run `body` (Python source that prints one JSON line last) after a prelude that makes
    `import tfnf` fail and imports json, sys, numpy as np and tensorflow as tf; `args` become
    `sys.argv[1:]`. Returns the parsed JSON line."""
    script = workdir / "child.py"
    script.write_text(_PRELUDE + textwrap.dedent(body))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, str(script), *map(str, args)], cwd=workdir, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
