"""Piccolo configuration of the integration tests on SQLite: ``PICCOLO_CONF=tests.sqlite_conf``, chosen by
tests/engines.py (as Piccolo's own test suite chooses its engine). The database: tests/integration/database.py."""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.sqlite import SQLiteEngine

from guild.infra.db import make_engine
from guild.infra.settings import Settings
from tests.integration.database import DATABASE

DB = make_engine(Settings(database_url=DATABASE.url))
assert isinstance(DB, SQLiteEngine), DATABASE.url

APP_REGISTRY = AppRegistry(apps=["guild.piccolo_app"])
