"""Hushdoc's application icon and sample documents.

This folder is installed as the package ``hushdoc_assets`` (see pyproject.toml), so
the files travel with the code in a wheel or an app bundle. Find them with
``app.assets``, never by a path relative to the source checkout.
"""
