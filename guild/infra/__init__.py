"""Infrastructure: settings, database, tables, audit log, throttling, PDF rendering."""
