"""The floor of cnncalc's stack: a hello-world typer program that imports what every
cnncalc analysis needs from its dependencies (pydantic, PyYAML, rich), and does nothing
else.  No program built on typer, pydantic, PyYAML and rich starts faster than this;
bench_startup.py times cnncalc's commands against it, side by side.

Run: python benchmarks/floor.py NAME [--count N]
"""

import typer
import yaml  # noqa: F401 - the floor is the cost of the imports
from pydantic import BaseModel  # noqa: F401
from rich.console import Console  # noqa: F401

app = typer.Typer(add_completion=False)


@app.command()
def hello(name: str, count: int = 1) -> None:
    """Say hello to NAME, COUNT times."""
    for _ in range(count):
        print(f"hello {name}")


if __name__ == "__main__":
    app()
