"""A low-code business app platform: an app is a document, the runtime interprets it."""

__version__ = "0.1.0"
