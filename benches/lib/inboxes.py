#!/usr/bin/env python3
"""Fediverse inboxes on loopback for benches/activitypub-fanout.

Listens on 0.0.0.0:PORT, so every 127.x.y.z address reaches it (each one a
distinct "server" to herald's per-host limits), answers every POST 202, and
records when each request arrived, by Host and path, with the activity's
type, id and actor (so a repeat is told from a second actor's own
activity). Writes the arrivals as JSON (a list of [seconds since the
epoch, host, path, activity type, activity id, actor]) to OUT when it gets
SIGTERM.
"""
import asyncio
import json
import signal
import sys
import time

port, out = int(sys.argv[1]), sys.argv[2]
arrivals = []


async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            kind = activity_id = actor = ""
            try:
                activity = json.loads(body)
                kind, activity_id, actor = (str(activity.get(k, "")) for k in ("type", "id", "actor"))
            except (ValueError, AttributeError):
                pass
            arrivals.append([time.time(), headers.get("host", ""), path, kind, activity_id, actor])
            writer.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.CancelledError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "0.0.0.0", port, backlog=4096)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    async with server:
        await stop.wait()
    with open(out, "w") as f:
        json.dump(arrivals, f)


asyncio.run(main())
