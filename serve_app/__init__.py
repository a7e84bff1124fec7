"""Tollgate: an enterprise LLM gateway on Ray Serve."""

__version__ = "0.1.0"
