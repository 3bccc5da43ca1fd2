"""``python -m toolwire``: the command line."""

from toolwire.cli import main

main()
