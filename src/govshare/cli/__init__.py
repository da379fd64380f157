"""The `govshare` command line (Typer). Each domain contributes its own `cli.py`."""
