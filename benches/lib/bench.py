#!/usr/bin/env python3
"""Helpers for benches/run, one subcommand each (standard library only).

  measure   run a command under `/usr/bin/time -v`, bounded in time and in
            memory; JSON with wall, user, sys, peak RSS and how it ended
  ready     wait until URLs answer 200; JSON with seconds since a start
  rss       wait until a process's RSS settles; JSON with VmRSS and VmHWM
  edits     the incremental-update latency loop (section 4 of benches/run)
  pick      the file under a folder whose size is nearest a target
            (with --archive-before YYYY-MM: an archive month before it)
  settled   wait until a daemon's archives and compressed twins are done
            (the twins a bounded time); JSON with when, and its /metrics
            file bytes
  probe     one GET with headers: status, encoding, body size, ETag (JSON)
  hugo-output  what a Hugo build wrote: files, bytes, feeds, sitemaps
  free-ports  N free loopback TCP ports

Every subcommand that waits has a bound and exits non-zero when it is hit.
"""

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse


def write_json(path, value):
    text = json.dumps(value, indent=1, sort_keys=True)
    if path:
        with open(path, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


# --------------------------------------------------------------- measure


def session_rss_kib(sid):
    """Sum of VmRSS over every process of session `sid` (the measured
    command and whatever it started)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            # The fields after the command name (which may hold spaces).
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[3]) != sid:
                continue
            with open(f"/proc/{entry}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total


def parse_time_v(path):
    """The figures of GNU time's -v report."""
    out = {}
    try:
        text = open(path).read()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.strip().rpartition(": ")
        if key == "User time (seconds)":
            out["user_s"] = float(value)
        elif key == "System time (seconds)":
            out["sys_s"] = float(value)
        elif key == "Maximum resident set size (kbytes)":
            out["max_rss_kib"] = int(value)
        elif key.startswith("Elapsed (wall clock) time"):
            parts = [float(p) for p in value.split(":")]
            seconds = 0.0
            for p in parts:
                seconds = seconds * 60 + p
            out["wall_time_v_s"] = seconds
        elif key == "Exit status":
            out["exit"] = int(value)
    return out


def measure(a):
    """Runs `/usr/bin/time -v -o FILE COMMAND...` in its own session; kills
    the whole session when it runs longer than --timeout or the session's
    RSS passes --max-rss-mib."""
    import threading

    limit_kib = a.max_rss_mib * 1024 if a.max_rss_mib else None
    state = {"status": "ok", "polled": 0}
    with open(a.log or os.devnull, "w") as log:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            ["/usr/bin/time", "-v", "-o", a.time_file, *a.command],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def watchdog():
            while proc.poll() is None:
                rss = session_rss_kib(proc.pid)
                state["polled"] = max(state["polled"], rss)
                if limit_kib and rss > limit_kib:
                    state["status"] = "memory"
                elif time.monotonic() - t0 > a.timeout:
                    state["status"] = "timeout"
                if state["status"] != "ok":
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    return
                time.sleep(0.2)

        watcher = threading.Thread(target=watchdog, daemon=True)
        watcher.start()
        proc.wait()
        wall = time.monotonic() - t0
        watcher.join()
    status, polled = state["status"], state["polled"]
    # wall_s is measured from outside (to the millisecond); GNU time's own
    # figure (to 10 ms) is kept as wall_time_v_s.
    result = {"status": status, "wall_s": round(wall, 3), "polled_max_rss_kib": polled, "command": a.command}
    result.update(parse_time_v(a.time_file))
    if status == "ok" and result.get("exit", proc.returncode) != 0:
        result["status"] = "failed"
    if status == "timeout":
        result["limit"] = f"{a.timeout:.0f} s"
    if status == "memory":
        result["limit"] = f"{a.max_rss_mib} MiB"
    write_json(a.json, result)
    return 0 if result["status"] == "ok" else 1


# ----------------------------------------------------------------- ready


def get(conn_cache, url, headers=None, timeout=5.0):
    """One GET on a kept-alive connection per host: (status, headers, body)."""
    parts = urllib.parse.urlsplit(url)
    key = parts.netloc
    for attempt in (0, 1):
        conn = conn_cache.get(key)
        if conn is None:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
            conn_cache[key] = conn
        try:
            conn.request("GET", parts.path or "/", headers=headers or {})
            response = conn.getresponse()
            body = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        except (OSError, http.client.HTTPException):
            conn.close()
            conn_cache.pop(key, None)
            if attempt:
                raise
    raise OSError("unreachable")


def ready(a):
    """Seconds from --since (a time.time() instant) until each URL first
    answers 200 (waiting for them in order). With --pid, gives up when that
    process ends or its RSS passes --max-rss-mib (it is then killed)."""
    deadline = time.time() + a.timeout
    out = {}
    for url in a.urls:
        while True:
            try:
                # Short timeouts: a server still building holds the
                # connection in its backlog; the loop asks again.
                status, _, _ = get({}, url, timeout=2.0)
                if status == 200:
                    out[url] = round(time.time() - a.since, 3)
                    break
            except OSError:
                pass
            if a.pid:
                try:
                    rss_kib = status_fields(a.pid)["VmRSS"]
                except (OSError, KeyError):
                    print(f"ready: process {a.pid} ended before {url} answered", file=sys.stderr)
                    return 1
                if a.max_rss_mib and rss_kib > a.max_rss_mib * 1024:
                    os.kill(a.pid, signal.SIGKILL)
                    print(f"ready: process {a.pid} passed {a.max_rss_mib} MiB; killed", file=sys.stderr)
                    write_json(a.json, {"error": f"RSS over {a.max_rss_mib} MiB while starting"})
                    return 1
            if time.time() > deadline:
                print(f"ready: {url} did not answer 200 within {a.timeout:.0f} s", file=sys.stderr)
                return 1
            time.sleep(0.02)
    write_json(a.json, out)
    return 0


# ------------------------------------------------------------------- rss


def status_fields(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                fields[key] = int(value.split()[0])
    return fields


def rss(a):
    """Polls VmRSS every 0.5 s until the last 3 s of samples lie within 1%
    (or --timeout passes), then reports /proc/PID/status."""
    t0 = time.monotonic()
    samples = []
    settled = False
    while time.monotonic() - t0 < a.timeout:
        samples.append(status_fields(a.pid)["VmRSS"])
        window = samples[-7:]
        if len(window) == 7 and max(window) - min(window) <= 0.01 * max(window):
            settled = True
            break
        time.sleep(0.5)
    fields = status_fields(a.pid)
    out = {
        "vmrss_kib": fields["VmRSS"],
        "vmhwm_kib": fields["VmHWM"],
        "rss_anon_kib": fields.get("RssAnon"),
        "rss_file_kib": fields.get("RssFile"),
        "threads": fields.get("Threads"),
        "settled": settled,
        "waited_s": round(time.monotonic() - t0, 1),
    }
    write_json(a.json, out)
    return 0


# ----------------------------------------------------------------- edits


def metric(text, name):
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def percentile(values, p):
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def edits(a):
    """Edits K of the newest articles one at a time, as an editor's program
    does (write a hidden temporary file beside it, rename it over): a new
    title with a unique marker, and `lastmod` set to now (so that the
    article's sitemap entry changes too). After each rename, polls the
    article's section feed, the language feed and the sitemap of its month
    (one kept-alive connection, If-None-Match, as fast as they answer) until
    all three serve new bytes with the marker where it belongs; then reads
    herald's own figures from /metrics."""
    base = a.base.rstrip("/")
    conns = {}
    # A large store's archives are rendered right after start-up (the live
    # files are served first): measure the steady state, once /healthz says
    # they are complete (an edit meanwhile waits for the archive work in
    # progress, up to the rendering of one feed's archive months).
    deadline = time.time() + 1800
    while b'"archives_complete": true' not in get(conns, f"{base}/healthz")[2]:
        if time.time() > deadline:
            print("edits: the archives were not complete within 1800 s", file=sys.stderr)
            return 1
        time.sleep(0.1)
    status, _, feed = get(conns, f"{base}/vi/rss.xml")
    if status != 200:
        print(f"edits: /vi/rss.xml answered {status}", file=sys.stderr)
        return 1
    # The newest articles: each is in the language feed and in its section
    # feed, so an edit changes both.
    links = re.findall(rb"<item>.*?<link>([^<]+)</link>", feed, re.S)
    targets = []
    for link in links:
        path = urllib.parse.urlsplit(link.decode()).path.strip("/").split("/")
        if len(path) == 2:
            section, slug = path
            file = os.path.join(a.store, section, f"{slug}.vi.md")
            if os.path.isfile(file):
                targets.append((section, file))
    if not targets:
        print("edits: no article of /vi/rss.xml found in the store", file=sys.stderr)
        return 1
    results = []
    failures = 0
    for k in range(a.count):
        section, file = targets[k % len(targets)]
        text = open(file, encoding="utf-8").read()
        month = re.search(r"^date = (\d{4})-(\d{2})", text, re.M)
        urls = {
            "section": f"{base}/vi/{section}/rss.xml",
            "language": f"{base}/vi/rss.xml",
            "sitemap": f"{base}/vi/sitemap-{month.group(1)}-{month.group(2)}.xml",
        }
        etags = {}
        for name, url in urls.items():
            status, headers, _ = get(conns, url)
            if status != 200:
                print(f"edits: {url} answered {status}", file=sys.stderr)
                return 1
            etags[name] = headers.get("etag")
        before = get(conns, f"{base}/metrics")[2].decode()
        count_before = metric(before, "herald_update_event_to_publish_seconds_count") or 0
        marker = f"bench-edit-{k}-{time.time_ns()}"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        new = re.sub(r'^title = "(.*)"$', lambda m: f'title = "{marker} {m.group(1)[:80]}"', text, count=1, flags=re.M)
        new = re.sub(r"^lastmod = .*\n", "", new, flags=re.M)
        new = new.replace("\n", f"\nlastmod = {stamp}\n", 1)
        tmp = os.path.join(os.path.dirname(file), f".{os.path.basename(file)}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(new)
        # The edit becomes visible at the rename: that is the write instant.
        os.rename(tmp, file)
        t_write = time.perf_counter()
        seen = {}
        deadline = t_write + a.timeout
        while len(seen) < len(urls) and time.perf_counter() < deadline:
            for name, url in urls.items():
                if name in seen:
                    continue
                status, headers, body = get(conns, url, {"If-None-Match": etags[name]})
                if status == 200 and headers.get("etag") != etags[name]:
                    t = time.perf_counter()
                    if name != "sitemap" and marker.encode() not in body:
                        # New bytes, but not yet the edit (another change).
                        etags[name] = headers.get("etag")
                        continue
                    seen[name] = t - t_write
        if len(seen) < len(urls):
            failures += 1
            print(f"edits: edit {k} of {file}: {sorted(set(urls) - set(seen))} unchanged after {a.timeout} s",
                  file=sys.stderr)
            continue
        # herald's own figures for this edit: the update counted after our
        # rename (wait briefly in case the metrics lag the files).
        after, count_after = before, count_before
        for _ in range(100):
            after = get(conns, f"{base}/metrics")[2].decode()
            count_after = metric(after, "herald_update_event_to_publish_seconds_count") or 0
            if count_after > count_before:
                break
            time.sleep(0.005)
        results.append({
            "file": os.path.relpath(file, a.store),
            "from_write_s": round(max(seen.values()), 6),
            "each_from_write_s": {n: round(v, 6) for n, v in seen.items()},
            "event_to_publish_s": metric(after, "herald_last_update_event_to_publish_seconds"),
            "file_event_to_publish_s": metric(after, "herald_last_update_file_event_to_publish_seconds"),
            "updates": count_after - count_before,
        })
        time.sleep(a.pause)
    def summary(key):
        values = [r[key] for r in results if r.get(key) is not None]
        return {
            "n": len(values),
            "p50_s": percentile(values, 50),
            "p99_s": percentile(values, 99),
            "max_s": max(values) if values else None,
        }
    metrics_text = get(conns, f"{base}/metrics")[2].decode()
    out = {
        "edits": a.count,
        "failed": failures,
        "debounce_s": metric(metrics_text, "herald_update_debounce_seconds"),
        "from_write": summary("from_write_s"),
        "event_to_publish": summary("event_to_publish_s"),
        "file_event_to_publish": summary("file_event_to_publish_s"),
        "updates_per_edit": sorted({r["updates"] for r in results}),
        "runs": results,
    }
    write_json(a.json, out)
    return 0 if failures == 0 else 1


# ------------------------------------------------------------ pick, ports


def pick(a):
    best = None
    for folder, _, files in os.walk(a.root):
        for name in files:
            if not name.endswith(a.suffix):
                continue
            if a.archive_before:
                month = name[: -len(a.suffix)]
                if os.path.basename(folder) != "archive" or not re.fullmatch(r"\d{4}-\d{2}", month) \
                        or month >= a.archive_before:
                    continue
            path = os.path.join(folder, name)
            size = os.path.getsize(path)
            key = (abs(size - a.near), path)
            if best is None or key < best[0]:
                best = (key, path, size)
    if best is None:
        return 1
    print(os.path.relpath(best[1], a.root), best[2])
    return 0


SETTLED_METRICS = ("herald_files_memory_bytes", "herald_files_disk_bytes", "herald_files_on_disk", "herald_files",
                   "herald_compression_pending")


def settled(a):
    """Seconds from --since until /healthz says the archives are complete
    and then until /metrics shows no file waiting for compression (at most
    --twins-wait seconds after the archives: the twins are made at the idle
    scheduling class, which gets no CPU on a busy machine); then the file
    bytes /metrics reports (memory, disk), twins done or not
    (`twins_complete`). Exits non-zero only when the archives are not
    complete within --timeout."""
    deadline = time.time() + a.timeout
    out = {}
    conns = {}
    text = ""
    archives_at = None
    while True:
        try:
            status, _, body = get(conns, a.base + "/healthz", timeout=5.0)
            health = json.loads(body) if status == 200 else {}
            if health.get("archives_complete") and archives_at is None:
                archives_at = time.time()
                out["archives_s"] = round(archives_at - a.since, 3)
            status, _, body = get(conns, a.base + "/metrics", timeout=5.0)
            text = body.decode()
            if archives_at is not None:
                if metric(text, "herald_compression_pending") == 0:
                    out["twins_s"] = round(time.time() - a.since, 3)
                    out["twins_complete"] = True
                    break
                if time.time() - archives_at > a.twins_wait:
                    out["twins_complete"] = False
                    break
        except (OSError, ValueError):
            pass
        if time.time() > deadline:
            if archives_at is None:
                out["error"] = f"archives not complete within {a.timeout:.0f} s"
            else:
                out["twins_complete"] = False
            break
        time.sleep(0.2)
    for name in SETTLED_METRICS:
        out[name] = metric(text, name)
    write_json(a.json, out)
    return 1 if "error" in out else 0


def probe(a):
    headers = dict(h.split(": ", 1) for h in a.headers)
    status, fields, body = get({}, a.url, headers)
    print(json.dumps({
        "server": a.server, "case": a.case, "status": status,
        "encoding": fields.get("content-encoding", "identity"), "bytes": len(body),
        "etag": fields.get("etag"), "content_type": fields.get("content-type"),
    }))
    return 0


def hugo_output(a):
    files = [os.path.join(d, f) for d, _, names in os.walk(a.public) for f in names]

    def read(path):
        try:
            return open(path, "rb").read()
        except OSError:
            return b""

    write_json(None, {
        "files": len(files),
        "bytes": sum(os.path.getsize(f) for f in files),
        "rss": sum(1 for f in files if f.endswith("/index.xml")),
        "sitemaps": sum(1 for f in files if os.path.basename(f).startswith("sitemap")),
        "home_items": read(os.path.join(a.public, "index.xml")).count(b"<item>"),
        "sitemap_urls": sum(read(f).count(b"<url>") for f in files if f.endswith("/sitemap.xml")),
    })
    return 0


def free_ports(a):
    import socket

    socks = [socket.socket() for _ in range(a.n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    print(*(s.getsockname()[1] for s in socks))
    for s in socks:
        s.close()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--timeout", type=float, required=True)
    m.add_argument("--max-rss-mib", type=int, default=0)
    m.add_argument("--time-file", required=True)
    m.add_argument("--log")
    m.add_argument("--json")
    m.add_argument("command", nargs=argparse.REMAINDER)
    r = sub.add_parser("ready")
    r.add_argument("--since", type=float, required=True)
    r.add_argument("--timeout", type=float, required=True)
    r.add_argument("--pid", type=int)
    r.add_argument("--max-rss-mib", type=int, default=0)
    r.add_argument("--json")
    r.add_argument("urls", nargs="+")
    s = sub.add_parser("rss")
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--timeout", type=float, default=60)
    s.add_argument("--json")
    e = sub.add_parser("edits")
    e.add_argument("--base", required=True)
    e.add_argument("--store", required=True)
    e.add_argument("--count", type=int, required=True)
    e.add_argument("--timeout", type=float, default=10)
    e.add_argument("--pause", type=float, default=0.3)
    e.add_argument("--json")
    k = sub.add_parser("pick")
    k.add_argument("--root", required=True)
    k.add_argument("--suffix", required=True)
    k.add_argument("--near", type=int, required=True)
    k.add_argument("--archive-before")
    t = sub.add_parser("settled")
    t.add_argument("--base", required=True)
    t.add_argument("--since", type=float, required=True)
    t.add_argument("--timeout", type=float, required=True)
    t.add_argument("--twins-wait", type=float, default=600)
    t.add_argument("--json")
    b = sub.add_parser("probe")
    b.add_argument("--server", required=True)
    b.add_argument("--case", required=True)
    b.add_argument("url")
    b.add_argument("headers", nargs="*")
    h = sub.add_parser("hugo-output")
    h.add_argument("public")
    f = sub.add_parser("free-ports")
    f.add_argument("n", type=int)
    a = p.parse_args()
    if a.cmd == "measure" and a.command[:1] == ["--"]:
        a.command = a.command[1:]
    return {"measure": measure, "ready": ready, "rss": rss, "edits": edits, "pick": pick, "probe": probe,
            "hugo-output": hugo_output, "free-ports": free_ports, "settled": settled}[
        a.cmd
    ](a)


if __name__ == "__main__":
    sys.exit(main())
