"""Celery workers: ``toolwire worker`` processes the messages the API sends them.

``tasks.py`` holds the one task, ``runtime.py`` what each worker process keeps (the database,
the model loaded once, a Processor renewing its leases), ``commands.py`` the CLI. The API side
(sending) is ``toolwire.api.queue``.
"""
