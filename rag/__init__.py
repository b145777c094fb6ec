"""Hushdoc's engine: load, chunk, embed, store, retrieve, generate, cite.

The package never imports Qt. ``rag.offline`` runs first so that no library
imported later can reach the network.
"""

from rag.offline import force_offline

force_offline()

__version__ = "0.1.0"
