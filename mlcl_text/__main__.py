"""``python -m mlcl_text`` (and ``accelerate launch -m mlcl_text``) runs the mlcl-text command."""

import sys

from mlcl_text.cli.main import main

sys.exit(main())
