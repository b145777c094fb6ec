"""``python -m app`` is the ``hushdoc`` command (the app bundle's entry too)."""

import multiprocessing
import sys

from app.launch import main

if __name__ == "__main__":
    # In the bundle, the child process that parses documents (rag.load.child) starts as
    # this executable; freeze_support runs it as that child instead of the app.
    multiprocessing.freeze_support()
    sys.exit(main())
