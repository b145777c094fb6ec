"""Index: split each document's pages into passages that fit the embedding model
(``chunk``), reading the next files ahead in a background thread (``prefetch``)."""
