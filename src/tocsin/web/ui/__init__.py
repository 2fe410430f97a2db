"""Server-rendered pages (Jinja2 + HTMX) calling the same services as the API."""
