"""Merges of several inputs: element-wise ``add`` / ``mul`` and channel ``concat``."""
