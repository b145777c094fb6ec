"""Stand-in for the bundled embedding model package in the subprocesses of fast tests.

``tests/conftest.py`` puts this folder first on their ``PYTHONPATH``: a fast test must not
start a process that loads a real model (mark such a test slow).
"""

raise ImportError(
    "a test not marked slow started a process that loads the real embedding model; "
    "mark the test @pytest.mark.slow"
)
