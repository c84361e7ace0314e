"""Normalisation layers (batch, layer, instance, group, local response) and
``layer_scale``, the learned per-channel multiplier."""
