"""Celery workers: ``toolwire worker`` processes the messages the API sends them.

``tasks.py`` holds the one task, ``runtime.py`` what each worker process keeps (the database,
the model loaded once, a Processor renewing its leases), ``retry.py`` which model failures are
retried and after how long, ``commands.py`` the CLI. The API side
(sending) is ``toolwire.service.queue``.
"""
