"""Hushdoc's desktop app: a thin PySide6 layer over the ``rag`` engine."""
