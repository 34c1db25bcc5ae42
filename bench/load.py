"""The benchmark's load client (issue 7): a small asyncio HTTP/1.1 client, run as its own
process beside the server, so the server's measured work is the server's alone.

    python bench/load.py plan.json result.json

The plan names the server, the requests (each sent once, in order, plus its retries) and
how they are offered:

- ``closed``: ``concurrency`` clients, each sending its next request when the last one
  is answered (the "50 applicants at once" of a busy morning);
- ``open``: a new request every ``1/rate`` seconds whatever the server does (a deadline
  day: people do not wait for each other), each given up after ``timeout`` seconds.

With ``retry`` a 503 is tried again after its Retry-After (at most ``retry_cap`` seconds),
as the busy page tells people to; the same request is sent, so an idempotent submit stays
one submission. Every request and every attempt is bounded in count and time. The result
lists, per request, the final status, the latency of the answer, the ``Location`` of a
redirect and the number of attempts, and per attempt the status (0 = timed out)."""

import asyncio
import json
import sys
import time


async def fetch(host: str, port: int, spec: dict, timeout: float) -> tuple[int, dict, float]:
    """One request on its own connection: (status, headers, seconds); status 0 when the
    server did not answer in ``timeout`` seconds, -1 when the connection failed."""
    body = spec.get("body", "").encode()
    lines = [
        f"{spec.get('method', 'GET')} {spec['path']} HTTP/1.1",
        f"Host: {host}:{port}",
        "Connection: close",
        "User-Agent: rencai-bench",
    ]
    if spec.get("cookie"):
        lines.append(f"Cookie: {spec['cookie']}")
    if body:
        lines.append("Content-Type: application/x-www-form-urlencoded")
        lines.append(f"Content-Length: {len(body)}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    started = time.perf_counter()
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(raw)
            await writer.drain()
            data = await reader.read()
    except TimeoutError:
        return 0, {}, time.perf_counter() - started
    except OSError:
        return -1, {}, time.perf_counter() - started
    finally:
        if writer is not None:
            writer.close()
    elapsed = time.perf_counter() - started
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    try:
        status = int(head[0].split()[1])
    except (IndexError, ValueError):
        return -1, {}, elapsed
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, elapsed


async def send(plan: dict, spec: dict, deadline: float) -> dict:
    attempts = []
    while True:
        status, headers, seconds = await fetch(plan["host"], plan["port"], spec, plan["timeout"])
        attempts.append([status, round(seconds * 1000, 1)])
        if not (plan.get("retry") and status in (503, 429, 0, -1)):
            break
        wait = min(float(headers.get("retry-after") or 1), plan.get("retry_cap", 2.0))
        if time.perf_counter() + wait > deadline:
            break
        await asyncio.sleep(wait)
    return {
        "id": spec.get("id"),
        "status": status,
        "ms": round(seconds * 1000, 1),
        "location": headers.get("location", ""),
        "attempts": attempts,
    }


async def closed(plan: dict) -> list[dict]:
    requests = iter(plan["requests"])
    stop = time.perf_counter() + plan["duration"]
    results = []

    async def client():
        for spec in requests:
            if time.perf_counter() >= stop:
                return
            results.append(await send(plan, spec, stop))

    await asyncio.gather(*(client() for _ in range(plan["concurrency"])))
    return results


async def open_loop(plan: dict) -> list[dict]:
    interval = 1 / plan["rate"]
    started = time.perf_counter()
    stop = started + plan["duration"]
    retry_until = stop + plan.get("retry_window", 10)
    tasks = []
    for n, spec in enumerate(plan["requests"]):
        due = started + n * interval
        if due >= stop:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(plan, spec, retry_until)))
    return list(await asyncio.gather(*tasks))


def main():
    plan = json.loads(open(sys.argv[1], encoding="utf-8").read())
    started = time.perf_counter()
    runner = closed if plan["mode"] == "closed" else open_loop
    results = asyncio.run(runner(plan))
    out = {"seconds": round(time.perf_counter() - started, 3), "results": results}
    with open(sys.argv[2], "w", encoding="utf-8") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main()
