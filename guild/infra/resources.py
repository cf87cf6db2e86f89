"""Where guild's installed resources are: the ``templates`` package beside ``guild`` (source tree,
editable or regular install alike), never a path relative to the working directory."""

from __future__ import annotations

from pathlib import Path

import templates

TEMPLATES_DIR = Path(templates.__file__).resolve().parent
