"""Allow ``python -m hoacu_xlsx``."""

from hoacu_xlsx.cli import main

main()
