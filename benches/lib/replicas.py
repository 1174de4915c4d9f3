#!/usr/bin/env python3
"""Helpers for benches/replicas (standard library and psql only).

  commits   N commits to the `articles` table (an UPDATE of one article's
            title and lastmod, on one psql session kept open), each followed
            by polling every replica's /vi/rss.xml until all serve a new
            ETag (the same one); JSON with the per-commit slowest replica's
            time from the commit (p50, p99, max) and each replica's p50
  publish   the --publish-cmd of websub-hubcheck.py for replicas on
            PostgreSQL: INSERTs an article with psql, then waits until the
            topic ($HUBCHECK_TOPIC) serves it

The database is given as a libpq URI in $BENCH_PSQL_URL (its `options`
set the schema). Every wait has a bound and exits non-zero when hit.
"""

import argparse
import http.client
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from bench import percentile  # the one nearest-rank percentile (benches/lib/bench.py)



class Replica:
    """One replica's feed on a kept-alive connection."""

    def __init__(self, base, path):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port, self.path = parts.hostname, parts.port, path
        self.conn = None

    def step_ms(self):
        """herald's own time for its last update (/metrics: from the
        change reaching the site loop to the new files being served)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
        try:
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
        finally:
            conn.close()
        m = re.search(r"^herald_last_update_event_to_publish_seconds (\S+)$", text, re.M)
        return round(float(m.group(1)) * 1000, 2) if m else None

    def etag(self, unless=None):
        """The feed's ETag now; with `unless`, a conditional GET (a 304
        while the feed still has that ETag, which is then returned)."""
        headers = {"If-None-Match": unless} if unless else {}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
            try:
                self.conn.request("GET", self.path, headers=headers)
                response = self.conn.getresponse()
                response.read()
                if response.status == 304:
                    return unless
                if response.status != 200:
                    raise OSError(f"{self.host}:{self.port}{self.path} answered {response.status}")
                return response.getheader("ETag")
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise OSError("unreachable")


class Psql:
    """One psql session, fed statements on stdin; `run` returns when the
    statement has committed (autocommit), seen by an \\echo after it."""

    def __init__(self, url):
        self.proc = subprocess.Popen(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.count = 0

    def run(self, sql):
        self.count += 1
        marker = f"committed {self.count}"
        self.proc.stdin.write(f"{sql};\n\\echo {marker}\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit(f"psql ended before {marker!r} (see its error above)")
            if line.strip() == marker:
                return

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def commits(a):
    replicas = [Replica(base, a.path) for base in a.bases]
    psql = Psql(os.environ["BENCH_PSQL_URL"])
    results = []
    random.seed(1)
    for i in range(1, a.count + 1):
        before = replicas[0].etag()
        others = [r.etag() for r in replicas[1:]]
        if any(e != before for e in others):
            raise SystemExit(f"commit {i}: the replicas disagree before it: {[before] + others}")
        sent = time.monotonic()
        psql.run(
            f"UPDATE articles SET title = 'Bench commit {i} {time.time_ns()}', lastmod = now() WHERE key = '{a.key}'"
        )
        committed = time.monotonic()
        seen = [None] * len(replicas)
        etags = [None] * len(replicas)
        deadline = committed + a.timeout
        while None in seen:
            for n, replica in enumerate(replicas):
                if seen[n] is None:
                    etag = replica.etag(unless=before)
                    if etag != before:
                        seen[n] = time.monotonic()
                        etags[n] = etag
            if time.monotonic() > deadline:
                raise SystemExit(f"commit {i}: not every replica served new bytes within {a.timeout} s: {etags}")
            time.sleep(0.001)
        results.append(
            {
                "step_ms": [r.step_ms() for r in replicas],
                "commit_ms": round((committed - sent) * 1000, 2),
                "per_replica_ms": [round((t - committed) * 1000, 2) for t in seen],
                "slowest_ms": round((max(seen) - committed) * 1000, 2),
                "same_etag": len(set(etags)) == 1,
            }
        )
        # All agree on the final bytes before the next commit.
        final_deadline = time.monotonic() + a.timeout
        while len({r.etag() for r in replicas}) != 1:
            if time.monotonic() > final_deadline:
                raise SystemExit(f"commit {i}: the replicas never served the same ETag")
            time.sleep(0.005)
        time.sleep(random.uniform(0.05, 0.15))
    psql.close()
    slowest = [r["slowest_ms"] for r in results]
    summary = {
        "commits": len(results),
        "slowest_replica_ms": {
            "p50": percentile(slowest, 50),
            "p99": percentile(slowest, 99),
            "max": max(slowest),
        },
        "per_replica_p50_ms": [percentile([r["per_replica_ms"][n] for r in results], 50) for n in range(len(replicas))],
        "commit_statement_p50_ms": percentile([r["commit_ms"] for r in results], 50),
        # herald's own update step (the slowest replica's), p50 / p99: the
        # rest of the time is NOTIFY, the follower's look, and polling.
        "herald_step_ms": {
            "p50": percentile([max(x for x in r["step_ms"] if x is not None) for r in results], 50),
            "p99": percentile([max(x for x in r["step_ms"] if x is not None) for r in results], 99),
        },
        "first_etag_differed": sum(1 for r in results if not r["same_etag"]),
        "raw": results,
    }
    text = json.dumps(summary, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "raw"}))
    return 0


def publish(a):
    topic = os.environ["HUBCHECK_TOPIC"]
    token = f"{time.time_ns()}"
    title = f"hubcheck {token}"
    psql = Psql(os.environ["BENCH_PSQL_URL"])
    psql.run(
        "INSERT INTO articles (key, title, date, section, language, body) "
        f"VALUES ('bench/hubcheck-{token}', '{title}', now(), 'thoi-su', 'vi', 'Published by hubcheck.')"
    )
    psql.close()
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(topic, timeout=5) as response:
                if title.encode() in response.read():
                    return 0
        except OSError:
            pass
        time.sleep(0.05)
    print(f"replicas.py publish: {topic} never showed {title!r}", file=sys.stderr)
    return 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("commits")
    c.add_argument("--count", type=int, default=50)
    c.add_argument("--key", required=True, help="the articles row each commit updates")
    c.add_argument("--path", default="/vi/rss.xml")
    c.add_argument("--timeout", type=float, default=30.0)
    c.add_argument("--json")
    c.add_argument("bases", nargs="+", help="each replica's base URL")
    sub.add_parser("publish")
    a = p.parse_args()
    return commits(a) if a.command == "commits" else publish(a)


if __name__ == "__main__":
    sys.exit(main())
