"""Whole-document work: a document's key points and the dated events of a set of documents.

``pages`` rebuilds a document's page text from its stored passages, so every point
and event is quoted with its page and its span in that page's text.
"""
