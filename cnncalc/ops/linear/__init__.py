"""Fully connected layers: ``linear``."""
