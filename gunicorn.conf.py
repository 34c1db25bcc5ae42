"""gunicorn in production (docs/operations.md "Serving"; the figures are from `make bench`).

Threaded workers (rencai.server.Worker): one process per core carries the CPU work, a
few requests at once (RENCAI_MAX_IN_FLIGHT) overlap their waits on PostgreSQL, the
others wait in the listen queue for the first free slot, and past RENCAI_SERVER_QUEUE of
them new connections get a fast "busy" answer instead of waiting unseen. Threads
outnumber RENCAI_MAX_IN_FLIGHT for the requests of kept-alive connections, which reach
the load-shedding middleware and wait there at most RENCAI_BUSY_WAIT_MS."""

import os

bind = os.environ.get("RENCAI_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", os.cpu_count() or 2))
worker_class = "rencai.server.Worker"  # gthread with a bounded queue
threads = int(os.environ.get("WEB_THREADS", "128"))
backlog = 2048
timeout = 30
graceful_timeout = 10
keepalive = 5
# recycle a worker now and then (memory fragmentation), not all at once
max_requests = 20000
max_requests_jitter = 2000
wsgi_app = "rencai.wsgi:application"
