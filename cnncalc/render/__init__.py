"""Renderers: everything that turns numbers into text for people or programs.

All rich code of the project lives in this package (``table``, ``compare``,
``listing``, ``console``); ``units``, ``views`` and ``text`` are plain Python (JSON,
CSV, markdown, humanised numbers).  Nothing is imported here, so that importing
one renderer does not pull in rich.
"""
