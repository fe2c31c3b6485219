"""lemlist-tui: a terminal inbox browser for lemlist."""

__version__ = "0.1.0"

__all__ = ["__version__"]
