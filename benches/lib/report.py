#!/usr/bin/env python3
"""Writes benches/run's Markdown report from the raw results of one run.

  python3 benches/lib/report.py target/bench-run > target/bench-report.md

Reads what benches/run left in the folder (meta.env, commands.tsv and one
JSON file per measurement) and prints: the machine and software, the
issue's targets with met / not met, then one table per section, then the
exact commands. A measurement that is missing or failed is said so.
"""

import glob
import json
import os
import re
import sys

from bench import percentile  # the one nearest-rank percentile (benches/lib/bench.py)

RUN = sys.argv[1]
MIB = 1024 * 1024


# ----------------------------------------------------------------- input


def load(name):
    try:
        with open(os.path.join(RUN, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_lines(name):
    try:
        with open(os.path.join(RUN, name)) as f:
            return [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError):
        return []


meta = {}
for line in open(os.path.join(RUN, "meta.env"), encoding="utf-8"):
    key, _, value = line.rstrip("\n").partition("=")
    meta[key] = value
sizes = [int(n) for n in meta["sizes"].split(",")]
quick = meta.get("quick") == "1"
lat_n = int(meta["lat_n"])
selected = meta.get("sections", "build,hugo,latency,serving,fanout,idle").split(",")


def skipped(section):
    """The sentence for a section this run did not select, or None."""
    return None if section in selected else "Not run (not in `--sections`).\n"


# -------------------------------------------------------------- formatting


def num(n):
    return "–" if n is None else f"{n:,}"


def secs(s):
    if s is None:
        return "–"
    if s < 0.001:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1000:.1f} ms"
    if s < 100:
        return f"{s:.2f} s"
    return f"{s:.0f} s"


def size(b):
    if b is None:
        return "–"
    if b >= 1024 * MIB:
        return f"{b / 1024 / MIB:.2f} GiB"
    if b >= MIB:
        return f"{b / MIB:.0f} MiB" if b >= 100 * MIB else f"{b / MIB:.1f} MiB"
    return f"{b / 1024:.1f} KiB"


def ratio(a, b):
    return None if not a or not b else a / b


def times(x):
    return "–" if x is None else f"{x:.2f}×"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


# ------------------------------------------------------------- the figures


def best_of(prefix, n):
    """The runs of one measured command: (best run or None, all runs)."""
    runs = [load(os.path.basename(p)) for p in sorted(glob.glob(os.path.join(RUN, f"{prefix}-{n}-[0-9]*.json")))]
    runs = [r for r in runs if r]
    ok = [r for r in runs if r.get("status") == "ok"]
    return (min(ok, key=lambda r: r["wall_s"]) if ok else None), runs


def failure(runs):
    bad = [r for r in runs if r.get("status") != "ok"]
    if not runs:
        return "not run"
    if not bad:
        return ""
    r = bad[0]
    why = {"timeout": "timed out", "memory": "over the memory bound", "failed": f"exit {r.get('exit')}"}.get(
        r["status"], r["status"])
    return f"{why}" + (f" ({r['limit']})" if r.get("limit") else "")


builds = {n: best_of("build", n) for n in sizes}
builds_notax = {n: best_of("build-notax", n) for n in sizes}
notax_from = int(meta.get("taxonomies_off_from") or 0)


def taxonomies(n):
    """Whether herald's runs on the n corpus had the taxonomy feeds on."""
    return "off" if notax_from and n >= notax_from else "on"


def tax_note(n):
    return " (taxonomy feeds off)" if taxonomies(n) == "off" else ""
hugo_sizes = [int(n) for n in meta.get("hugo_sizes", meta["sizes"]).split(",")]
hugos = {n: best_of("hugo", n) for n in sorted(set(sizes) | set(hugo_sizes))}
latency = load("latency.json")
latencies = {int(re.search(r"latency-(\d+)\.json$", p).group(1)): load(os.path.basename(p))
             for p in glob.glob(os.path.join(RUN, "latency-[0-9]*.json")) if re.search(r"latency-(\d+)\.json$", p)}
if latency and lat_n not in latencies:
    latencies[lat_n] = latency
http = {(r["server"], r["case"]): r.get("result") for r in load_lines("http.jsonl")}
probes = {(r["server"], r["case"]): r for r in load_lines("http-probes.jsonl")}
http_file = load("http-file.json")
fanout = {int(re.search(r"load-(\d+)", p).group(1)): (load(os.path.basename(p)) or {}).get("load")
          for p in glob.glob(os.path.join(RUN, "load-*.json"))}
fanout_cpu = {n: load(f"fanout-cpu-{n}.json") or {} for n in fanout}
idle = {int(re.search(r"idle-(\d+)\.json", p).group(1)): load(os.path.basename(p))
        for p in glob.glob(os.path.join(RUN, "idle-[0-9]*.json")) if re.search(r"idle-(\d+)\.json$", p)}
idle_ready = {n: load(f"idle-{n}-ready.json") for n in idle}
idle_restart = {n: load(f"idle-{n}-restart.json") for n in idle}
idle_restart_ready = {n: load(f"idle-{n}-restart-ready.json") for n in idle}
idle_settled = {(n, start): load(f"idle-{n}{'' if start == 'cold' else '-restart'}-settled.json") or {}
                for n in idle for start in ("cold", "restart")}
idle_state = {n: load(f"idle-{n}-state.json") or {} for n in idle}
idle_stop = {(n, start): (load(f"idle-{n}{'' if start == 'cold' else '-restart'}-stop.json") or {}).get("stop_s")
             for n in idle for start in ("cold", "restart")}


def cpu(r):
    return None if not r else r.get("user_s", 0) + r.get("sys_s", 0)


def rss(r):
    return None if not r or r.get("max_rss_kib") is None else r["max_rss_kib"] * 1024


def ready_time(n, path, start="cold"):
    r = (idle_ready if start == "cold" else idle_restart_ready).get(n) or {}
    return next((v for k, v in r.items() if k.endswith(path)), None)


# ----------------------------------------------------------------- targets


def verdict(ok):
    return "**met**" if ok else "**not met**"


def target_rows():
    rows = []
    missing = "not measured in this run" + (" (--quick)" if quick else "") + (
        " (--sections)" if len(selected) < 6 else "")

    def add(target, reference, figure, ok):
        rows.append((target, reference, figure, verdict(ok) if ok is not None else missing))

    # The build's own memory (issue 7); the build's speed targets are issue 16's, above.
    hb, _ = builds.get(100000, (None, []))
    add("100,000-article build: peak RSS < 300 MiB", "Hugo 3.7 GiB; Python generator 300 MiB",
        size(rss(hb)) if hb else "–", rss(hb) < 300 * MIB if hb else None)
    # One edit in a 100,000-article store.
    if latency and latency["file_event_to_publish"]["n"]:
        e = latency["event_to_publish"]
        f = latency["file_event_to_publish"]
        w = latency["from_write"]
        figure = (f"p99 {secs(f['p99_s'])} from the first file event; {secs(e['p99_s'])} from the watcher's "
                  f"batch; {secs(w['p99_s'])} from the write")
        if lat_n != 100000:
            figure += f" — on {num(lat_n)} articles"
        # The target is from the file event: judged by that figure, which
        # includes the watcher's wait (the batch figure does not).
        add("one edit in 100,000: new bytes served ≤ 20 ms (p99) from the file event", "Hugo ~0.4 s (10,000)",
            figure, f["p99_s"] <= 0.020 if lat_n == 100000 else None)
    else:
        add("one edit in 100,000: new bytes served ≤ 20 ms (p99) from the file event", "Hugo ~0.4 s (10,000)", "–",
            None)
    # Serving.
    refs = {"full": "nginx ~43,000 req/s", "gzip": "nginx ~111,000 req/s", "304": "nginx ~167,000 req/s"}
    for case in ("full", "gzip", "304"):
        h, n = http.get(("herald", case)), http.get(("nginx", case))
        if h and n:
            x = ratio(h["rps"], n["rps"])
            add(f"serving ({case}): req/s ≥ nginx's, same run", refs[case],
                f"herald {num(round(h['rps']))}, nginx {num(round(n['rps']))}: {times(x)}", x >= 1)
        else:
            add(f"serving ({case}): req/s ≥ nginx's, same run", refs[case], "–", None)
    # WebSub.
    f = fanout.get(10000)
    if f and f.get("latency_max_s") is not None:
        ok = f["latency_max_s"] <= 1 and f["misses"] == 0 and f["duplicates"] == 0 and f["delivered"] == 10000
        add("WebSub: 10,000 subscribers within 1 s, no misses, no duplicates", "Python hub 23-29 s",
            f"max {secs(f['latency_max_s'])} (p99 {secs(f['latency_p99_s'])}), delivered {num(f['delivered'])}, "
            f"misses {f['misses']}, duplicates {f['duplicates']}", ok)
    else:
        add("WebSub: 10,000 subscribers within 1 s, no misses, no duplicates", "Python hub 23-29 s", "–", None)
    return rows



def language_feed_times(lat):
    """Each edit's time from the rename to /vi/rss.xml serving it (issue
    16's own measure of "one edit → served")."""
    return [r["each_from_write_s"]["language"] for r in lat.get("runs", [])
            if r.get("each_from_write_s", {}).get("language") is not None]


def issue16_rows():
    """Issue 16's table: measure, before, target, this run, verdict."""
    rows = []
    missing = "not measured in this run" + (" (--quick)" if quick else "")

    def add(measure, before, target, figure, ok):
        rows.append((measure, before, target, figure, verdict(ok) if ok is not None else missing))

    # Idle memory: the cold-started daemon and the restarted one, both idle.
    for count, limit, label, before in ((100000, 400 * MIB, "400 MiB", "2.14 GiB"),
                                        (1000000, 1536 * MIB, "1.5 GiB", "13.06 GiB")):
        parts, oks = [], []
        for start in ("cold", "restart"):
            r = (idle if start == "cold" else idle_restart).get(count) or {}
            st = idle_settled.get((count, start)) or {}
            if "vmrss_kib" in r:
                pending = st.get("herald_compression_pending")
                parts.append(f"{size(r['vmrss_kib'] * 1024)} after the {start} start"
                             + ("" if st.get("twins_complete") or pending is None
                                else f" ({num(int(pending))} files still waiting for their compressed twins)"))
                oks.append(r["vmrss_kib"] * 1024 <= limit)
            elif r.get("error"):
                parts.append(f"{start} start: {r['error']}")
                oks.append(False)
        add(f"idle `herald serve`, {num(count)} articles{tax_note(count)}: VmRSS", before, f"≤ {label}", "; ".join(parts) or "–",
            all(oks) if oks else None)
    # Start-up: first byte of /vi/rss.xml.
    for count, start, limit, before, what in (
            (100000, "restart", 1.0, "5.8 s", "restart, state folder kept, unchanged store, 100,000"),
            (1000000, "restart", 10.0, "73–128 s", "restart, state folder kept, unchanged store, 1,000,000"),
            (100000, "cold", 3.0, "5.8 s", "cold start (no state), 100,000")):
        t = ready_time(count, "/vi/rss.xml", start)
        st = idle_settled.get((count, start)) or {}
        figure = secs(t) if t is not None else "–"
        if t is not None and st.get("archives_s") is not None:
            figure += f" (archives complete at {secs(st['archives_s'])})"
        add(f"{what}{tax_note(count)}: first byte of /vi/rss.xml", before, f"≤ {limit:.0f} s", figure,
            t <= limit if t is not None else None)
    # The build against Hugo: taxonomies off (like for like) and on.
    hh, hruns = hugos.get(100000, (None, []))
    for label, (hb, bruns) in (("taxonomies off, as Hugo's site", builds_notax.get(100000, (None, []))),
                               ("taxonomies on", builds.get(100000, (None, [])))):
        what = f"`herald build`, 100,000, vs Hugo same run ({label})"
        if hb and hh:
            x = ratio(hh["wall_s"], hb["wall_s"])
            add(what, "1.84× (9.45 s vs 17.4 s)", "≥ 10×",
                f"herald {secs(hb['wall_s'])}, Hugo {secs(hh['wall_s'])}: {times(x)} "
                f"(CPU {times(ratio(cpu(hh), cpu(hb)))})", x >= 10)
        elif hb and hruns:
            add(what, "1.84× (9.45 s vs 17.4 s)", "≥ 10×", f"herald {secs(hb['wall_s'])}; Hugo {failure(hruns)}",
                False)
        else:
            add(what, "1.84× (9.45 s vs 17.4 s)", "≥ 10×", failure(bruns) if bruns else "–",
                False if bruns else None)
    hm, mruns = builds.get(1000000, (None, []))
    add(f"`herald build`, 1,000,000 (taxonomies {taxonomies(1000000)}): wall", "100 s", "≤ 15 s",
        f"{secs(hm['wall_s'])} (CPU {secs(cpu(hm))})" if hm else (failure(mruns) if mruns else "–"),
        hm["wall_s"] <= 15 if hm else (False if mruns else None))
    add(f"`herald build`, 1,000,000 (taxonomies {taxonomies(1000000)}): peak RSS", "2.37 GiB", "≤ 1.5 GiB",
        size(rss(hm)) if hm else (failure(mruns) if mruns else "–"),
        rss(hm) <= 1.5 * 1024 * MIB if hm else (False if mruns else None))
    # One edit → served.
    for count, before in ((100000, "17.6 ms max"), (1000000, "55.9 ms max")):
        lat = latencies.get(count)
        values = language_feed_times(lat) if lat else []
        if values:
            p99 = percentile(values, 99)
            figure = (f"p99 {secs(p99)} (max {secs(max(values))}, {len(values)} edits); all three files "
                      f"p99 {secs(lat['from_write']['p99_s'])}; from the file event p99 "
                      f"{secs(lat['file_event_to_publish']['p99_s'])}")
            if lat.get("failed"):
                figure += f"; {lat['failed']} edits not seen"
            add(f"one edit → served, p99, {num(count)}{tax_note(count)}", before, "≤ 20 ms", figure,
                p99 <= 0.020 and not lat.get("failed"))
        else:
            add(f"one edit → served, p99, {num(count)}{tax_note(count)}", before, "≤ 20 ms",
                f"no edit seen ({lat['failed']} failed)" if lat else "–", False if lat else None)
    h, n = http.get(("herald", "full")), http.get(("nginx", "full"))
    x = ratio(h and h["rps"], n and n["rps"])
    on_disk = (http_file or {}).get("herald_files_on_disk")
    add("past archive from disk: req/s vs nginx, same file, same run (full body)", "(from memory)", "≥ 0.9×",
        (f"herald {num(round(h['rps']))}, nginx {num(round(n['rps']))}: {times(x)}"
         + (f" (herald: {num(int(on_disk))} files on disk)" if on_disk is not None else "")) if x else "–",
        x >= 0.9 if x else None)
    # Not a target: what /metrics says of the idle daemons' files.
    parts = []
    for count in sorted(idle):
        for start in ("cold", "restart"):
            st = idle_settled.get((count, start)) or {}
            if st.get("herald_files_memory_bytes") is not None:
                parts.append(f"{num(count)} {start}: {size(st['herald_files_memory_bytes'])} / "
                             f"{size(st.get('herald_files_disk_bytes'))}")
    rows.append(("`/metrics` at idle: `herald_files_memory_bytes` / `herald_files_disk_bytes`",
                 "(everything in memory)", "(reported)", "; ".join(parts) or "–", "–"))
    return rows


# ------------------------------------------------------------------ report

out = []
w = out.append
w(f"# herald benchmark report{' (quick run: provisional)' if quick else ''}\n")
w(f"- Date: {meta['date']}")
w(f"- Machine: {meta['nproc']} cores ({meta['cpu']}), {int(meta['mem_kib']) / 1024 / 1024:.1f} GiB RAM, "
  f"{meta['kernel']}, {meta['os']}")
if meta.get("herald_given"):
    w(f"- herald: the binary `{meta['herald_bin']}` ({meta['herald']}; `--herald`), suite at commit "
      f"{meta['commit'][:12]}{' with uncommitted changes' if meta['dirty'] == 'yes' else ''}")
else:
    w(f"- herald: commit {meta['commit'][:12]}{' with uncommitted changes' if meta['dirty'] == 'yes' else ''} "
      f"({meta['herald']}, {meta['rustc']}, release build)")
w(f"- Others: Hugo {meta['hugo']}, nginx {meta['nginx']}, wrk {meta['wrk']}")
w(f"- Command: `{meta['command'].strip()}` (sizes {', '.join(num(n) for n in sizes)}; "
  f"{'one run each' if meta['reps'] == '1' else 'best of ' + meta['reps'] + ' below 1,000,000, one run from 1,000,000'})")
w(f"- Load average (1, 5, 15 min) at the start: {meta.get('load_start', '?')}; at the end: "
  f"{meta.get('load_end', '?')} ({meta.get('date_end', '?')})")
w("- Everything runs on this one machine at once with its load generators (wrk, the WebSub subscribers share the "
  "cores); other work on the machine during the run disturbs the figures.\n")

w("## Targets (issue 16)\n")
w(table(["measure", "before (issue 16)", "target", "this run", "verdict"], issue16_rows()))
w("\nIdle memory: VmRSS once the archives are complete and the compressed twins done (or "
  f"{meta.get('twins_wait', '600')} s later: they are made at the idle scheduling class), once VmRSS has "
  "settled (section 7); met only when both the cold-started and the restarted daemon are within the target. "
  "First byte: from the process start to the first 200 of /vi/rss.xml. One edit: from the rename to an HTTP "
  "client seeing the new /vi/rss.xml (issue 16's measure; section 4). Past archive: section 5.\n")
w("## Other targets (issue 7)\n")
w(table(["target", "reference (issue 7)", "this run", "verdict"], target_rows()))
w("")

w("## 1. Corpora\n")
w("`herald gen-corpus target/bench-corpus/N N --seed 1` (cached; generation is not timed): bilingual, 12 sections, "
  "about 40% translation pairs, 600-1,200-word bodies, 60% with 1-3 images, 1% drafts, a few future-dated.\n")

w("## 2. Full build (`herald build`)\n")
rows = []
for n in sizes if not skipped("build") else []:
    for kind, tax, (best, runs) in (("build", taxonomies(n), builds[n]), ("build-notax", "off", builds_notax[n])):
        if kind == "build-notax" and not runs:
            continue
        o = load(f"{kind}-{n}-output.json") or {}
        walls = ", ".join(secs(r["wall_s"]) for r in runs if r.get("status") == "ok")
        rows.append([num(n), tax, len(runs), secs(best["wall_s"]) if best else failure(runs), walls or "–",
                     secs(cpu(best)), size(rss(best)), num(o.get("files")), size(o.get("bytes")),
                     failure(runs) or "ok"])
w(skipped("build") or table(["articles", "taxonomy feeds", "runs", "wall (best)", "walls", "CPU (user+sys)",
                             "peak RSS", "files", "output", "status"], rows))
w("\nWall from outside the process; CPU and peak RSS (Maximum resident set size) from `/usr/bin/time -v` of the "
  "best run. Output: files and `du -sb` of the folder (every feed in RSS, Atom and JSON Feed for the site, each "
  "language and each section, and with taxonomy feeds on each tag, author and category, monthly archives, "
  "sitemaps, HTML views). Taxonomies on: `benches/bench.toml`; off: the same with `[taxonomies.*] enabled = "
  "false` (`bench-notax.toml` in the run folder), built at the sizes Hugo builds"
  + (f"; from {num(notax_from)} articles up every herald run (build, serve) has them off "
     "(`--taxonomies-off-from`)" if notax_from else "") + ".\n")

w("## 3. Hugo, same corpus (RSS + sitemaps only)\n")
rows = []
for n in hugo_sizes if not skipped("hugo") else []:
    best, runs = hugos[n]
    hb, _ = builds_notax.get(n, (None, []))
    if not hb:
        hb, _ = builds.get(n, (None, []))
    o = load(f"hugo-{n}-output.json") or {}
    rows.append([num(n), secs(best["wall_s"]) if best else failure(runs), secs(cpu(best)), size(rss(best)),
                 f"{num(o.get('rss'))} / {num(o.get('sitemaps'))}", num(o.get("sitemap_urls")),
                 times(ratio(best and best["wall_s"], hb and hb["wall_s"])),
                 times(ratio(cpu(best), cpu(hb))), times(ratio(rss(best), rss(hb)))])
w(skipped("hugo") or table(["articles", "Hugo wall", "Hugo CPU", "Hugo peak RSS", "RSS feeds / sitemaps written", "sitemap URLs",
         "wall Hugo/herald", "CPU Hugo/herald", "RSS Hugo/herald"], rows))
w("\nHugo builds a temporary site whose `contentDir` is the corpus (`hugo-N.toml` in the run folder): languages vi "
  "and en from the file names, home and section pages output RSS only (Hugo's embedded template: 50 items with "
  "summaries, not full bodies), pages output nothing, taxonomies off; the sitemaps are Hugo's (one per language "
  "and an index). herald's build writes more (three formats, full content, archives, monthly sitemaps). Ratios "
  "above 1 mean herald is faster / smaller; they compare with herald's build with taxonomy feeds off where the run "
  "has it (Hugo's site builds none), else with taxonomies on. A size over 20 minutes or 16 GiB is stopped and "
  "shown as such.\n")

w(f"## 4. Incremental update latency (`herald serve`, {', '.join(num(n) for n in sorted(latencies)) or num(lat_n)} "
  "articles)\n")
if skipped("latency"):
    w(skipped("latency"))
elif latencies:
    rows = []
    for n in sorted(latencies):
        lat = latencies[n] or {}
        if "from_write" not in lat:
            rows.append([num(n), "not measured"] + ["–"] * 4)
            continue
        values = language_feed_times(lat)
        rows.append([num(n), "from the write (rename) to /vi/rss.xml new, seen by an HTTP client", len(values),
                     secs(percentile(values, 50)), secs(percentile(values, 99)), secs(max(values) if values else None)])
        for key, what in (("from_write", "from the write (rename): all three files new"),
                          ("file_event_to_publish", "from the first file event to the files swapped (includes the "
                                                    "watcher's wait)"),
                          ("event_to_publish", "from the watcher's batch to the files swapped (herald's work)")):
            x = lat[key]
            rows.append([num(n), what, x["n"], secs(x["p50_s"]), secs(x["p99_s"]), secs(x["max_s"])])
    w(table(["articles", "latency", "edits", "p50", "p99", "max"], rows))
    lat = latencies[min(latencies)] or {}
    w(f"\nEach edit rewrites one of the newest articles of /vi/rss.xml as an editor's program does (a hidden "
      f"temporary file renamed over it): a new title with a marker and `lastmod` now. The client polls the "
      f"article's section feed, /vi/rss.xml and its month's /vi/sitemap-YYYY-MM.xml over one kept-alive "
      f"connection with If-None-Match until all three serve new bytes (the feeds with the marker). herald's "
      f"figures are its /metrics gauges read after each edit (`herald_last_update_event_to_publish_seconds`, "
      f"`herald_last_update_file_event_to_publish_seconds`). The watcher delivers a saved file about 2 ms after "
      f"its last event; its quiet period for files still open for writing is "
      f"{secs(lat.get('debounce_s'))} (`herald_update_debounce_seconds`). Failed edits: "
      + ", ".join(f"{num(n)}: {(latencies[n] or {}).get('failed')}" for n in sorted(latencies))
      + "; updates per edit: "
      + ", ".join(f"{num(n)}: {(latencies[n] or {}).get('updates_per_edit')}" for n in sorted(latencies))
      + (". The daemon: section 7's restarted one at each size (on a hard-link copy of the corpus), once its "
         "archives were complete and its twins done or waited for.\n" if "idle" in selected else
         ". The daemon: one started for the edits at each size (on a hard-link copy of the corpus); the edits "
         "start once its archives are complete.\n"))
    r = load("latency-ready.json") or {}
    if r:
        w(f"Start-up of the {num(lat_n)}-article daemon to /healthz: {secs(next(iter(r.values())))}.\n")
else:
    w("Not measured (see latency-N.json and serve-latency.log in the run folder).\n")

w("## 5. HTTP serving: herald vs nginx, same bytes, same run\n")
if skipped("serving"):
    w(skipped("serving"))
elif http_file:
    w(f"File: `{http_file['file']}` of the {num(10000)}-article output, {num(http_file['bytes'])} bytes "
      f"({num(http_file['gzip_bytes'])} gzip -9 for nginx). `wrk -t2 -c{http_file['conns']} "
      f"-d{http_file['duration']}` on loopback, one server at a time.\n")
    rows = []
    for case, what in (("full", "full body"), ("gzip", "Accept-Encoding: gzip"), ("304", "If-None-Match → 304")):
        h, n = http.get(("herald", case)), http.get(("nginx", case))
        ph, pn = probes.get(("herald", case), {}), probes.get(("nginx", case), {})
        errs = lambda r: "–" if not r else sum(r["errors"].values())
        rows.append([what,
                     num(round(h["rps"])) if h else "–", secs(h["latency_p99_us"] / 1e6) if h else "–",
                     num(round(n["rps"])) if n else "–", secs(n["latency_p99_us"] / 1e6) if n else "–",
                     times(ratio(h and h["rps"], n and n["rps"])),
                     f"{ph.get('status')} {ph.get('encoding')} {num(ph.get('bytes'))} B / "
                     f"{pn.get('status')} {pn.get('encoding')} {num(pn.get('bytes'))} B",
                     f"{errs(h)} / {errs(n)}"])
    w(table(["case", "herald req/s", "herald p99", "nginx req/s", "nginx p99", "herald/nginx",
             "answer (herald / nginx)", "errors"], rows))
    w("\nnginx: 2 worker processes (herald's tokio runtime has one thread per core), `gzip_static on`, `etag on`, "
      "`sendfile on`, access log off, keep-alive unlimited (`nginx.conf` in the run folder); it serves the "
      "`herald build` output folder with the benchmarked file replaced by herald's served bytes. wrk runs on the "
      "same 2 cores as the server.\n")
else:
    w("Not measured.\n")

w("## 6. WebSub fan-out (`benches/websub-fanout`)\n")
if skipped("fanout"):
    w(skipped("fanout"))
elif fanout:
    rows = []
    for n in sorted(fanout):
        f = fanout[n]
        if not f:
            rows.append([num(n)] + ["–"] * 10)
            continue
        cpu = fanout_cpu.get(n, {})
        cpu_s = lambda key: secs(cpu[key]) if isinstance(cpu.get(key), (int, float)) else "–"
        rows.append([num(n), num(f["delivered"]), secs(f["latency_p50_s"]), secs(f["latency_p99_s"]),
                     secs(f["latency_max_s"]), num(f["deliveries_per_s"]), f["duplicates"], f["misses"],
                     f"{secs(f['subscribe_phase_s'])}", cpu_s("herald_cpu_s"), cpu_s("checker_cpu_s")])
    w(table(["subscribers", "delivered", "p50", "p99", "max", "deliveries/s", "duplicates", "misses",
             "subscribing", "herald CPU", "subscribers' CPU"], rows))
    w("\nOne change to /vi/rss.xml of the sample store, to N subscribers of the W3C hub checker's load mode (one "
      "Python aiohttp process for all callbacks, on the same cores). Latency is from the publish (writing the "
      "article file; it includes the watcher's wait and the checker's publish command polling the topic) to "
      "each subscriber's first 2xx delivery. CPU: seconds (user + system) used by herald and by the checker's "
      "process while the checker ran (subscribing, verification and the fan-out).\n")
else:
    w("Not measured (see fanout.log).\n")

w("## 7. Idle daemon memory and start-up (cold, then restart on the unchanged store)\n")
rows = []
for n in sorted(idle):
    for start, r in (("cold", idle[n] or {}), ("restart", idle_restart.get(n) or {})):
        st = idle_settled.get((n, start)) or {}
        mem, disk = st.get("herald_files_memory_bytes"), st.get("herald_files_disk_bytes")
        pending = st.get("herald_compression_pending")
        twins = secs(st.get("twins_s")) if st.get("twins_complete") else (
            f"not done ({num(int(pending))} pending)" if pending is not None else "–")
        rows.append([num(n), start, secs(ready_time(n, "/healthz", start)), secs(ready_time(n, "/vi/rss.xml", start)),
                     secs(st.get("archives_s")), twins,
                     size(r["vmrss_kib"] * 1024) if "vmrss_kib" in r else r.get("error", "–"),
                     size(r["vmhwm_kib"] * 1024) if "vmhwm_kib" in r else "–",
                     size(r["rss_anon_kib"] * 1024) if r.get("rss_anon_kib") is not None else "–",
                     size(mem) if mem is not None else "–", size(disk) if disk is not None else "–",
                     ("settled" if r.get("settled") else "not settled") + f" after {r.get('waited_s')} s" if r else "–",
                     secs(idle_stop.get((n, start)))])
w(skipped("idle") or table(["articles", "start", "→ /healthz 200", "→ /vi/rss.xml 200", "→ archives complete",
                            "→ compressed twins complete", "VmRSS", "VmHWM (peak)", "RssAnon",
                            "files in memory", "files on disk", "RSS", "clean stop took"], rows))
w("\n`herald serve` on the cached corpus with an empty state folder (cold), then, after a clean stop (SIGTERM), "
  "again with the same state folder on the unchanged store (restart). Times from the process start; the "
  "archives and twins columns from `/healthz` (`archives_complete`) and `/metrics` "
  f"(`herald_compression_pending 0`, waited for at most {meta.get('twins_wait', '600')} s after the archives; "
  "the twins are made at the idle scheduling class, which gets no CPU while anything else runs). VmRSS polled "
  "every 0.5 s until 3 s of samples lie within 1%, after both; then VmRSS and VmHWM from /proc/PID/status. "
  "Files in memory / on disk: `herald_files_memory_bytes`, `herald_files_disk_bytes` (bodies and compressed "
  "twins), read when the wait for the twins ended. State folder after the restart's stop (`du -sb`): "
  + ", ".join(f"{num(n)}: {size(idle_state[n].get('state_bytes'))}" for n in sorted(idle)) + ".\n")

w("## Commands\n")
w("Paths as in the repository; PORT, COPY: chosen by benches/run.\n")
w("```sh")
try:
    for line in open(os.path.join(RUN, "commands.tsv"), encoding="utf-8"):
        section, _, command = line.rstrip("\n").partition("\t")
        w(f"# {section}\n{command.replace(meta['root'] + '/', '')}")
except OSError:
    pass
w("```")
print("\n".join(out))
