"""``python -m rag`` is the ``hushdoc`` command."""

import sys

from rag.cli import main

sys.exit(main())
