"""Retrieve: hybrid search over the store (``search``: FAISS cosine plus FTS5 BM25), and
whether what it found can answer the question at all (``relevance``)."""
