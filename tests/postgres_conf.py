"""Piccolo configuration of the integration tests on PostgreSQL: ``PICCOLO_CONF=tests.postgres_conf``, chosen
by tests/engines.py (as Piccolo's own test suite chooses its engine). The database:
tests/integration/database.py, which makes it before Piccolo first asks for this engine."""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from guild.infra.db import make_engine
from guild.infra.settings import Settings
from tests.integration.database import DATABASE

DB = make_engine(Settings(database_url=DATABASE.url))
assert isinstance(DB, PostgresEngine), DATABASE.url

APP_REGISTRY = AppRegistry(apps=["guild.piccolo_app"])
