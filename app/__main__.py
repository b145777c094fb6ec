"""``python -m app`` opens the desktop app."""

import sys

from app.main import run_app

sys.exit(run_app())
