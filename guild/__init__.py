"""guild: federated labor compacts for independent film."""

import os

# Piccolo finds its engine through this module; set before any table is imported.
os.environ.setdefault("PICCOLO_CONF", "guild.piccolo_conf")

__version__ = "0.1.0"
