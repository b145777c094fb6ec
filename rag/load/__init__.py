"""Load: find documents, check each file against the per-file limits, and extract its text.

``discover`` lists the files and tells their kind by suffix; ``limits`` checks a
file before it is opened; ``describe`` hashes it for the index; ``document``
loads it with the loader for its kind (``pdf``, ``word``, ``text``, ``html``).
PDF pages lose the text hidden under black boxes first (``redaction``, which
reads the page with ``content_scan`` and cuts with ``content_rewrite``).
"""
