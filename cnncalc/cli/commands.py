"""The command map of :mod:`cnncalc.cli`, GENERATED from the command modules by
``python -m cnncalc.cli.command_map``: do not edit (a test says when it is stale)."""

#: command modules, in help order, and the commands each defines
COMMANDS: dict[str, tuple[str, ...]] = {
    "analysis": ("shapes", "params", "flops", "rf", "summary", "compare", "ops", "zoo"),
    "torchcmds": ("build", "export", "profile"),
    "importcmd": ("import",),
    "checkcmds": ("check", "diff", "schema"),
    "teach": ("explain", "calc", "sizes", "graph", "plot", "solve"),
    "memorycmd": ("memory",),
}
