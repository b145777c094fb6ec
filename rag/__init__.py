"""Hushdoc's engine: load, chunk, embed, store, retrieve, generate, cite.

The package never imports Qt. ``rag.offline`` runs first so that no library
imported later can reach the network; then, in the app bundle, the programs Hushdoc
starts get the user's library path back, and native worker threads are set to wait
without spinning (``rag.runtime``).
"""

from rag.offline import force_offline
from rag.runtime import passive_thread_waiting, restore_library_path

force_offline()
restore_library_path()
passive_thread_waiting()

__version__ = "0.1.0"
