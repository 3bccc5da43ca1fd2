"""``python -m toolwire.cli``: the command line, as ``python -m toolwire``."""

from toolwire.cli import main

main()
