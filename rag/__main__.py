"""``python -m rag`` is the ``hushdoc`` command."""

import sys

from rag.cli.main import main

sys.exit(main())
