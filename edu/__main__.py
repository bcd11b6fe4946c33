"""Allow ``python -m edu`` as a synonym for the ``edu`` command."""

import sys

from edu.cli.main import main

sys.exit(main())
