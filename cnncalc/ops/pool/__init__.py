"""Pooling: max and average, windowed, global or adaptive (fixed output size)."""
