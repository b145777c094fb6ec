"""Stand-in for the bundled language model package in the subprocesses of fast tests.

It holds no GGUF file, so loading the bundled model fails there (see ``tests/conftest.py``).
"""
