"""Web pages for people (officers, producers, members, anyone verifying a PDF): server-rendered HTML.

Pages sit beside the JSON API at the controllers level and call the same services with the same
principal, so every role and object-level rule holds here too. Browser state lives in a server-side
session (an HttpOnly cookie), every form carries a CSRF token, and nothing here touches ``/api/``.
"""

from guild.pages.setup import configure_pages, swagger_ui

__all__ = ["configure_pages", "swagger_ui"]
