"""The main job (``make run``): the default scenario under both commissioning modes, 20 seeds."""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.argv = [str(Path(__file__).with_name("run.py")), *sys.argv[1:]]
    sys.path.insert(0, str(Path(__file__).parent))
    from run import main

    main()
