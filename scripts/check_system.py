"""Check what guild needs from the machine, with a clear message for whatever is missing.

--python-only: only the interpreter version (run before the virtual environment exists).
"""

from __future__ import annotations

import platform
import sys

HELP_WEASYPRINT = """\
WeasyPrint (contract and compact PDFs) needs the Pango text stack from the system:
  Debian/Ubuntu:  sudo apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
  macOS:          brew install pango
(see https://doc.courtbouillon.org/weasyprint/stable/first_steps.html)"""


def main() -> int:
    if sys.version_info < (3, 11):
        print(f"guild needs Python 3.11 or newer; this is {platform.python_version()} ({sys.executable}).")
        print("Set PYTHON=/path/to/python3.11 for make, e.g. `make run PYTHON=python3.12`.")
        return 1
    if "--python-only" in sys.argv:
        return 0
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:  # a system library could not be loaded
        print(f"WeasyPrint cannot load a system library: {exc}\n{HELP_WEASYPRINT}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
