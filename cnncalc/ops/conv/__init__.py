"""Convolutions: ``conv`` (incl. groups, depthwise, dilation, LeNet-5's ``connect``
table), ``conv_transpose`` and ``local`` (locally connected, unshared weights)."""
