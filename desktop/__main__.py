"""``python -m desktop`` and the ``eventdesk`` console script."""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point of the ``eventdesk`` command."""
    from desktop.cli import main as cli_main

    sys.exit(cli_main())


if __name__ == "__main__":
    main()
