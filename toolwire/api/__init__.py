"""The REST API: ``create_app()`` builds it; ``toolwire serve`` runs it (see ``app.py``)."""

from toolwire.api.app import create_app

__all__ = ["create_app"]
