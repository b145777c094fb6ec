"""``python -m rag`` is the ``hushdoc`` command."""

import sys

from rag.cli.main import main
from rag.process import harden_process

harden_process()
sys.exit(main())
