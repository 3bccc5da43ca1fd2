"""``python -m toolwire.api [--host ...] [--port ...]``: the server without the full CLI."""

import typer

from toolwire.cli.serve import serve

if __name__ == "__main__":
    typer.run(serve)
