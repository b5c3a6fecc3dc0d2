"""The `tinhso` console command: Django's management commands with the project's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tinhso.settings")
    if len(argv) > 1 and argv[1] == "demo":
        # The demo shows its accounts on the sign-in page.
        os.environ.setdefault("TINHSO_DEMO", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
