"""`python -m tfnf` runs the command line."""

import sys

from tfnf.cli.main import main

sys.exit(main())
