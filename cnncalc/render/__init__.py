"""Renderers: everything that turns numbers into text for people or programs.

All rich code of the project lives in this package.  The text every renderer shares is
below it: ``cnncalc.units`` (every number, shape, axis and formula text) and
``cnncalc.safe`` (the one function that escapes a spec's strings).  Here, one module per
command output: ``table`` (summary, shapes, params, flops, rf), ``compare``,
``listing`` (ops, zoo), ``explain`` (explain, calc), ``solve``, ``sizes``, ``check``,
``diff``, ``graph``, ``plot``, ``profile``; ``views`` and ``text`` are plain Python
(columns, JSON, CSV, markdown) and ``console`` makes the rich consoles.  Nothing is
imported here, so that importing one renderer does not pull in rich.
"""
