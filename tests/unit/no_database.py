"""PICCOLO_CONF while a unit test runs: asking Piccolo for an engine fails, naming the rule."""

raise RuntimeError(
    "a unit test asked Piccolo for a database engine; unit tests have no database: "
    "move the test to tests/integration or keep the database out of it"
)
