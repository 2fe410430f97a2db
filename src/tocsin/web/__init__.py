"""HTTP edge: the JSON API under /api/v1 and the Jinja2 + HTMX web UI."""
