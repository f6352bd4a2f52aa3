"""A small closed-loop HTTP/1.1 load generator, run as its own process, like wrk.

    python bench/loadgen.py --port 8000 --path /api/v1/verify --body FILE \
        --header "Host: example" --connections 32 --seconds 10

Each of --connections clients sends a request, waits for the whole response, and sends the
next at once; a connection the server closes (gunicorn's sync workers close after every
response) is opened again, and that time counts in the request's latency, as in wrk. It prints
one JSON object: requests, errors by kind, statuses, requests/s and latency percentiles in ms.
asyncio in one process costs well under a millisecond of CPU per request, so at a few hundred
requests per second it takes a small share of the machine it shares with the server.
"""

import argparse
import asyncio
import json
import time
from pathlib import Path


def request_bytes(head: list[str], body: bytes) -> bytes:
    lines = [*head, f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; return its status and whether the server keeps the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length, keep_alive, chunked = None, True, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value == "close":
            keep_alive = False
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        keep_alive = False
    return status, keep_alive


class Payloads:
    """The request to send, each from a different client address when `clients` is set (as
    X-Forwarded-For from one trusted proxy): many visitors, not one, as production sees."""

    def __init__(self, head: list[str], body: bytes, clients: int) -> None:
        self.plain = request_bytes(head, body)
        self.head, self.body, self.clients, self.count = head, body, clients, 0

    def next(self) -> bytes:
        if not self.clients:
            return self.plain
        self.count += 1
        number = self.count % self.clients
        address = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
        return request_bytes([*self.head, f"X-Forwarded-For: {address}"], self.body)


async def client(
    *,
    host: str,
    port: int,
    payloads: Payloads,
    deadline: float,
    latencies: list[float],
    statuses: dict[int, int],
    errors: dict[str, int],
    interval: float = 0.0,
) -> None:
    reader = writer = None
    while time.perf_counter() < deadline:
        if interval:
            await asyncio.sleep(interval)  # paced: a low, steady rate instead of a closed loop
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            assert reader is not None
            writer.write(payloads.next())
            await writer.drain()
            status, keep_alive = await asyncio.wait_for(read_response(reader), timeout=30)
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
        ) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.01)
            continue
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1
        if not keep_alive:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(args: argparse.Namespace) -> dict[str, object]:
    body = args.body.read_bytes() if args.body else b""
    payloads = Payloads([f"{args.method} {args.path} HTTP/1.1", *args.header], body, args.clients)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    started = time.perf_counter()
    deadline = started + args.seconds
    await asyncio.gather(
        *(
            client(
                host=args.host,
                port=args.port,
                payloads=payloads,
                deadline=deadline,
                latencies=latencies,
                statuses=statuses,
                errors=errors,
                interval=args.interval,
            )
            for _ in range(args.connections)
        )
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "connections": args.connections,
        "seconds": elapsed,
        "requests": len(ordered),
        "requests_per_s": len(ordered) / elapsed,
        # Only 200 responses count as served: a 429 or 500 is fast and says nothing.
        "ok_per_s": statuses.get(200, 0) / elapsed,
        "statuses": statuses,
        "errors": errors,
        "p50_ms": percentile(ordered, 0.50) * 1000,
        "p90_ms": percentile(ordered, 0.90) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "max_ms": (ordered[-1] if ordered else float("nan")) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--method", default="POST")
    parser.add_argument("--path", default="/")
    parser.add_argument("--body", type=Path)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--clients", type=int, default=0, help="distinct X-Forwarded-For addresses (0: none)"
    )
    parser.add_argument(
        "--interval", type=float, default=0.0, help="seconds each connection waits between requests"
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
