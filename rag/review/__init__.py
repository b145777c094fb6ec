"""The review grid: every document asked the same questions, one cell per document and
question (``hushdoc review``, the app's Review…, and the chat's "which agreements…").

``checklist`` reads the questions (a shipped checklist, a TOML or JSON checklist file, or
a plain text file of one question per line); ``grid`` asks them of each document with
``Engine.ask`` scoped to it, yielding each cell as it is answered; ``export`` writes the
grid as JSON, CSV or Markdown; ``across`` answers a question across documents in the
chat as a one-column review.
"""
