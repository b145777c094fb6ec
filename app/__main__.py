"""``python -m app`` is the ``hushdoc`` command (the app bundle's entry too)."""

import sys

from app.launch import main

sys.exit(main())
