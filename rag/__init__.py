"""Hushdoc's engine: load, chunk, embed, store, retrieve, generate, cite.

The package never imports Qt. ``rag.offline`` runs first so that no library
imported later can reach the network; then, in the app bundle, the programs Hushdoc
starts get the user's library path back (``rag.runtime``).
"""

from rag.offline import force_offline
from rag.runtime import restore_library_path

force_offline()
restore_library_path()

__version__ = "0.1.0"
