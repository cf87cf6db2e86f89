"""Document and page templates (Jinja), installed with guild; located through this package's path."""
