"""The frozen executables' entry point (QuantDesk windowed, quantdesk console): the same CLI."""
import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
