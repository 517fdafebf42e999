"""Entry point: `python -m kubenode …` (see kubenode.cli)."""

import sys

from kubenode.cli import main

sys.exit(main())
