"""``hushdoc bench``: ``run`` measures everything and holds the report; ``indexing``,
``embed``, ``search`` and ``generate`` each measure one part against the bare
library; ``table`` and ``plot`` show the figures."""
