"""`python -m apps.agent`: the same as the `incident-agent` command."""

import sys

from apps.agent.cli import main

sys.exit(main())
