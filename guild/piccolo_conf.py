"""Piccolo configuration (selected by PICCOLO_CONF=guild.piccolo_conf)."""

from piccolo.conf.apps import AppRegistry

from guild.infra.db import make_engine
from guild.infra.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(apps=["guild.piccolo_app"])
