"""The service core below the API and the worker: the Processor that runs a stored message,
the engine cache, approvals, the Celery queue, context budgeting, metrics and the domain
errors. Nothing here imports FastAPI; ``toolwire.api`` maps it to HTTP and ``toolwire.worker``
runs it from the queue."""
