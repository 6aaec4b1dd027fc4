"""autoheal: write and heal web-extraction scripts per store (library behind the workflow)."""

__version__ = "0.1.0"
