"""`python -m kubectl_eckrc`, and the entry script of the PyInstaller build."""

import sys

from kubectl_eckrc.cli import main

if __name__ == "__main__":
    sys.exit(main())
