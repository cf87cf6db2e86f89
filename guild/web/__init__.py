"""The web edge: authentication, request parsing, problem responses, OpenAPI, request logging."""
