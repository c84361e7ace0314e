"""Ops that move or pass data without weights: ``flatten``, ``identity``, ``dropout``,
``upsample``, ``zeropad``, ``channel_shuffle``, ``drop_path`` and ``slice``."""
