"""The `tocsin` command line (Typer), calling the same services as the API."""
