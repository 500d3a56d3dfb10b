"""Entry script of the frozen program: the very same command line as the ``eventdesk`` command."""

from desktop.__main__ import main

if __name__ == "__main__":
    main()
