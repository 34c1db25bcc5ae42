"""The gunicorn worker (``gunicorn.conf.py``, issue 7): gunicorn's threaded worker that takes
a connection only when it has a slot for it, and answers "busy" itself when the whole
server is behind.

gunicorn's own worker accepts every connection it can and hands each to its thread pool,
whose queue has no bound: a process took more requests than it had cores for, its threads
fought over the interpreter lock and its database connections over the rows, and a process
that happened to take many made its requests wait while another was idle. This worker
accepts a connection only while fewer than ``RENCAI_MAX_IN_FLIGHT`` requests are in the
process; the rest wait in the kernel's listen queue, shared by all the processes, and are
taken in the order they came by whichever process has a slot first. On two cores this
served 20–25 % more submissions per second than 32 requests in flight per process (see
docs/operations.md, "Deploying").

When every slot is taken and ``RENCAI_SERVER_QUEUE`` connections (at least one) wait in
the listen queue, the worker accepts them and answers each at once, from its loop: the
request is read, then given the same 503 page (or the API's JSON) with ``Retry-After``
that the load-shedding middleware gives, built by the same Django code
(``environ["rencai.shed"]`` asks the middleware for it). Nothing of such a request
reaches a view or the database, so a retried submission stays one submission."""

import errno
import functools
import selectors
import socket
import struct
import sys
import time
from io import BytesIO
from urllib.parse import unquote_to_bytes

from gunicorn.workers.gthread import TConn, ThreadWorker

ACCEPT_PER_TURN = 64
POLL_WHILE_FULL = 0.01  # seconds between two looks at the listen queue while the slots are full
READ_TIMEOUT = 2.0  # seconds a turned-away client has to send its request
PLAIN_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: text/plain; "
    b"charset=utf-8\r\nContent-Length: 34\r\nConnection: close\r\n\r\n"
    + "系统繁忙，请稍后再试。\n".encode()
)


class Worker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_process = 0  # requests handed to the threads and not finished
        self.turned_away = {}  # connection being answered "busy": its deadline (in order)

    def load_wsgi(self):
        """With the application (and so its checked settings) loaded: the requests the
        process works on at once (the middleware's limit, or with none its threads), and
        how many connections may wait in the listen queue before new ones are turned
        away."""
        super().load_wsgi()
        from django.conf import settings

        self.slots = min(self.cfg.threads, settings.RENCAI_MAX_IN_FLIGHT or self.cfg.threads)
        self.queue = max(settings.RENCAI_SERVER_QUEUE, 1)

    # -- accepting ---------------------------------------------------------------------

    def full(self) -> bool:
        return self.in_process >= self.slots

    def set_accept_enabled(self, enabled):
        """gunicorn's loop enables accepting whenever the process may hold one more
        connection; this worker only while it has a free slot, or to turn connections
        away while the server is behind."""
        super().set_accept_enabled(
            enabled and (not self.full() or any(self.overrun(s) for s in self.sockets))
        )

    def wait_for_and_dispatch_events(self, timeout):
        """While the slots are full the listener is not watched: look at the listen
        queue again soon, to turn connections away if it grows."""
        super().wait_for_and_dispatch_events(
            min(timeout, POLL_WHILE_FULL) if self.full() else timeout
        )

    def accept(self, listener):
        """One connection taken per turn of the loop while there is a slot, so that the
        processes share the work; none while the slots are full (it waits in the listen
        queue for the first free slot of any process), unless the server is behind: then
        every waiting connection (at most ACCEPT_PER_TURN) is answered "busy" at once."""
        for _ in range(ACCEPT_PER_TURN):
            if self.nr_conns >= self.worker_connections:
                return
            full = self.full()
            if full and not self.overrun(listener):
                super().set_accept_enabled(False)  # the loop enables it again with a slot
                return
            try:
                client, address = listener.accept()
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                    raise
                return
            self.nr_conns += 1
            if full:
                self.turn_away(client, address)
                continue
            client.setblocking(True)
            self.enqueue_req(TConn(self.cfg, client, address, listener.getsockname()))
            return

    def overrun(self, listener) -> bool:
        """Whether the whole server is behind: ``RENCAI_SERVER_QUEUE`` connections (at
        least one) wait to be accepted by any process (the kernel's count). Unknown (not
        TCP): behind. Never over TLS (this worker's answer is plain HTTP; TLS ends at the
        proxy)."""
        if self.cfg.is_ssl:
            return False
        try:
            info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 32)
        except (OSError, AttributeError):
            return True
        # struct tcp_info: for a listening socket tcpi_unacked (offset 24) is the length of
        # its accept queue (Linux)
        return struct.unpack_from("I", info, 24)[0] >= self.queue

    def enqueue_req(self, conn):
        self.in_process += 1
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self.in_process -= 1
        super().finish_request(conn, fs)

    # -- the busy answer ---------------------------------------------------------------

    def turn_away(self, client, address):
        client.setblocking(False)
        self.turned_away[client] = time.monotonic() + READ_TIMEOUT
        self.poller.register(
            client, selectors.EVENT_READ, functools.partial(self.answer_busy, address)
        )

    def answer_busy(self, address, client):
        self.poller.unregister(client)
        del self.turned_away[client]
        try:
            head = client.recv(65536)
            if head:
                try:
                    answer = self.busy_answer(head, address)
                except Exception:  # never let one answer stop the loop
                    self.log.exception("busy answer failed")
                    answer = PLAIN_BUSY
                client.sendall(answer)
                client.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the client went away: nothing was done for it
        finally:
            self.nr_conns -= 1
            client.close()

    def busy_answer(self, head: bytes, address) -> bytes:
        """The whole HTTP answer Django gives a shed request (see the module's docstring)."""
        lines = head.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        method, target = [*lines[0].split(b" "), b"", b""][:2]
        path, _, query = target.partition(b"?")
        environ = {
            "REQUEST_METHOD": method.decode("latin-1") or "GET",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1") or "/",
            "QUERY_STRING": query.decode("latin-1"),
            "SCRIPT_NAME": "",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": address[0] if isinstance(address, tuple) else "",
            "wsgi.input": BytesIO(),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "rencai.shed": True,
        }
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            key = name.strip().decode("latin-1").upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                continue  # the body is not read
            environ[f"HTTP_{key}"] = value.strip().decode("latin-1")
        if "HTTP_HOST" in environ:
            host, _, port = environ["HTTP_HOST"].rpartition(":")
            environ["SERVER_NAME"], environ["SERVER_PORT"] = (
                (host, port) if host and port.isdigit() else (environ["HTTP_HOST"], "80")
            )
        started = []
        body = b"".join(self.wsgi(environ, lambda *answer: started.append(answer)))
        status, headers = started[0][:2]
        out = [f"HTTP/1.1 {status}"]
        out += [
            f"{name}: {value}"
            for name, value in headers
            if name.lower() not in ("connection", "content-length")
        ]
        out += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        return "\r\n".join(out).encode("latin-1") + body

    def murder_pending(self):
        """Also close the turned-away connections that sent nothing in time."""
        super().murder_pending()
        now = time.monotonic()
        for client, deadline in list(self.turned_away.items()):
            if deadline > now:
                break
            del self.turned_away[client]
            try:
                self.poller.unregister(client)
            except (KeyError, ValueError, OSError):
                pass
            self.nr_conns -= 1
            client.close()
