"""`python -m iq1kernels` = the `iq1kernels` command."""

import sys

from .cli import main

sys.exit(main())
