"""Ops that move or pass data without weights: ``flatten``, ``identity``, ``dropout``,
``upsample``, ``slice`` and the like (every module of this folder is found and imported by
``cnncalc.ops.discovery``; nothing here lists them)."""
