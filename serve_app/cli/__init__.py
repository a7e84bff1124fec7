"""The ``tollgate`` command line."""

from serve_app.cli.main import main

__all__ = ["main"]
