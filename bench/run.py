"""Runs the benchmarks against a release build on loopback, prints their tables and writes
them to bench/REPORT.md with the machine's description.

Started by bench/run.sh (which builds and installs wrk). Every process it starts is stopped
before it returns; every run is bounded in time. `python3 bench/run.py <part>...` runs only
some parts: signing, page, ingest, memory, uploads, load, exhaustion.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
# The server measured: the release build, or another binary to compare with it (BENCH_PORTAL_BIN).
PORTAL_BIN = Path(os.environ.get("BENCH_PORTAL_BIN", ROOT / "target" / "release" / "upload-portal"))
PORTAL = "127.0.0.1:3310"
BUCKET = "127.0.0.1:9320"
GIB = 1 << 30


def wait_until_up(url, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the portal did not answer at {url}")


def rss_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss(pid):
    # Writing 5 to clear_refs resets VmHWM (Linux >= 4.0).
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def sign(batch):
    request = urllib.request.Request(
        f"http://{PORTAL}/api/sign_uploads",
        data=json.dumps({"batch": batch}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


REPORT = []
# Figures the targets table is made of, filled in by the benchmarks that ran.
METRICS = {}


def table(title, header, rows):
    lines = [f"\n### {title}\n", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    print("\n".join(lines), flush=True)
    REPORT.extend(lines)


def note(text):
    print(text, flush=True)
    REPORT.append(text)


def bench_signing(label, duration, rows, url=None):
    for connections in (1, 8, 64):
        threads = min(connections, 2)
        script = [] if url else ["-s", str(ROOT / "bench" / "sign.lua")]
        result = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", *script,
             url or f"http://{PORTAL}/api/sign_uploads"],
            capture_output=True, text=True, timeout=duration + 30, check=True,
        ).stdout
        rps = re.search(r"Requests/sec:\s+([\d.]+)", result).group(1)
        p50 = re.search(r"\s50%\s+(\S+)", result).group(1)
        p99 = re.search(r"\s99%\s+(\S+)", result).group(1)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result)
        socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", result)
        failed = int(errors.group(1)) if errors else 0
        if socket_errors:
            failed += sum(int(n) for n in socket_errors.groups())
        rows.append((label, connections, f"{float(rps):,.0f}", p50, p99, failed))
        METRICS.setdefault("signing", {})[(label, connections)] = (float(rps), wrk_ms(p99))


def wrk_ms(text):
    """wrk's latency (`812.00us`, `1.40ms`, `2.01s`) in milliseconds."""
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


BASELINE = "127.0.0.1:9400"


def bench_baseline(duration, rows):
    """Alibaba's app-server sample (Python http.server, one HMAC-SHA1 per GET), same wrk runs."""
    server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "baseline_signer.py"), BASELINE],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://{BASELINE}/")
        bench_signing("Python sample (baseline)", duration, rows, url=f"http://{BASELINE}/")
    finally:
        server.terminate()
        server.wait(timeout=10)


def signing_ratios(rows):
    """The portal's signers against the baseline, connection count by connection count."""
    rps = {(r[0], r[1]): float(r[2].replace(",", "")) for r in rows}
    out = []
    for label in ("V1", "V4", "V4 + STS"):
        for connections in (1, 8, 64):
            base = rps.get(("Python sample (baseline)", connections))
            mine = rps.get((label, connections))
            if base and mine:
                out.append((label, connections, f"{mine / base:.1f}×"))
    table("Signing throughput against the baseline (same connections)", ["signer", "connections", "ratio"], out)


def upload_file(path, folder="uploads/bench"):
    ticket = sign({"files": [{"name": path.name, "size": path.stat().st_size,
                              "content_type": "application/octet-stream"}], "naming": "random", "folder": folder})[0]
    return curl_post(ticket, path)


def bench_memory(pid, work):
    """The server's peak RSS while one upload of 1 MiB, 100 MiB and 1 GiB streams in (flat in
    the file size), idle, and with 200 uploads in flight at once."""
    METRICS["rss_idle"] = rss_kib(pid, "VmRSS") / 1024
    # What the idle figure is made of: heap and stacks, and the binary's code pages in memory.
    rows = [("idle", "", f"{METRICS['rss_idle']:.1f} MiB (anonymous {rss_kib(pid, 'RssAnon') / 1024:.1f} MiB, "
                         f"mapped files, mostly the binary's code, {rss_kib(pid, 'RssFile') / 1024:.1f} MiB)")]
    for label, size in (("1 MiB", 1 << 20), ("100 MiB", 100 << 20), ("1 GiB", GIB)):
        path = write_file(work / f"mem-{size}.bin", size)
        reset_peak_rss(pid)
        seconds = upload_file(path)
        peak = rss_kib(pid, "VmHWM") / 1024
        METRICS.setdefault("rss_by_size", []).append(peak)
        rows.append((f"one upload of {label}", f"{seconds:.2f} s", f"{peak:.1f} MiB"))
        path.unlink()
    # 200 uploads of 4 MiB, each held to 512 KiB/s by curl so that all are in flight together.
    path = write_file(work / "inflight.bin", 4 << 20)
    signed = sign({"files": [{"name": f"f{i}.bin", "size": 4 << 20, "content_type": "application/octet-stream"}
                             for i in range(100)], "naming": "random", "folder": "uploads/inflight"})
    signed += sign({"files": [{"name": f"g{i}.bin", "size": 4 << 20, "content_type": "application/octet-stream"}
                              for i in range(100)], "naming": "random", "folder": "uploads/inflight"})
    reset_peak_rss(pid)
    procs = []
    for ticket in signed:
        args = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--limit-rate", "512K"]
        for name, value in ticket["fields"]:
            args += ["--form-string", f"{name}={value}"]
        args += ["-F", f"file=@{path}", ticket["url"]]
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE, text=True))
    peak_sampled, started = 0, time.time()
    while any(p.poll() is None for p in procs) and time.time() - started < 120:
        peak_sampled = max(peak_sampled, rss_kib(pid, "VmRSS"))
        time.sleep(0.25)
    codes = [p.communicate(timeout=60)[0] for p in procs]
    ok = sum(1 for c in codes if c.strip() == "200")
    METRICS["rss_inflight"] = max(peak_sampled, rss_kib(pid, "VmHWM")) / 1024
    rows.append(("200 uploads of 4 MiB in flight (curl, 512 KiB/s each)", f"{time.time() - started:.1f} s",
                 f"{max(peak_sampled, rss_kib(pid, 'VmHWM')) / 1024:.1f} MiB ({ok}/200 stored)"))
    table("Server memory (the portal and its embedded bucket, one process)", ["state", "time", "RSS (peak)"], rows)


def bench_load(pid):
    count = int(os.environ.get("LOAD_UPLOADS", "10000"))
    seconds = int(os.environ.get("SOAK_SECONDS", "600"))
    rate = float(os.environ.get("SOAK_RATE", "50"))
    script = ROOT / "bench" / "load.py"
    load = json.loads(subprocess.run([sys.executable, str(script), "load", PORTAL, str(pid), str(count), "64"],
                                     capture_output=True, text=True, check=True, timeout=3600).stdout)
    soak = json.loads(subprocess.run([sys.executable, str(script), "soak", PORTAL, str(pid), str(seconds), str(rate)],
                                     capture_output=True, text=True, check=True, timeout=seconds + 600).stdout)
    METRICS["lost"] = load["lost"] + soak["lost"]
    METRICS["corrupted"] = load["corrupted"] + soak["corrupted"]
    rows = []
    for label, r in ((f"load: {count:,} uploads, 64 at a time", load), (f"soak: {seconds} s at {rate:g}/s", soak)):
        rows.append((label, f"{r['uploads']:,}", f"{r['per_second']:,.0f}/s", r["errors"], r["lost"], r["corrupted"],
                     f"{r['p50_ms']} ms", f"{r['p99_ms']} ms"))
    table("Load and soak (sign + POST + confirm per upload, 1/16/64 KiB files; every object read back and its MD5 checked)",
          ["run", "uploads", "rate", "errors", "lost", "corrupted", "p50", "p99"], rows)
    note(f"\nServer RSS: peak {load['server_peak_rss_mib']} MiB during the load run; during the soak "
         f"{soak['rss_start_mib']} MiB at start, {soak['rss_after_warmup_mib']} MiB in its second minute, "
         f"{soak['rss_end_mib']} MiB in its last minute (drift {soak['rss_end_mib'] - soak['rss_after_warmup_mib']:+.1f} MiB), "
         f"max {soak['rss_max_mib']} MiB over {soak['rss_samples']} samples." +
         (f" Error kinds: {load['error_kinds'] + soak['error_kinds']}." if load['errors'] or soak['errors'] else ""))


def bench_ingest(pid, work):
    source = work / "1gib.bin"
    with open(source, "wb") as f:
        chunk = os.urandom(1 << 20)
        for _ in range(1024):
            f.write(chunk)
    ticket = sign({"files": [{"name": "big.bin", "size": GIB, "content_type": "application/octet-stream"}],
                   "naming": "random", "folder": "uploads/bench"})[0]
    args = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}"]
    for name, value in ticket["fields"]:
        args += ["--form-string", f"{name}={value}"]
    args += ["-F", f"file=@{source}", ticket["url"]]
    reset_peak_rss(pid)
    code, seconds = subprocess.run(args, capture_output=True, text=True, timeout=600, check=True).stdout.split()
    peak = rss_kib(pid, "VmHWM")
    if code != "200":
        raise SystemExit(f"the 1 GiB upload answered {code}")
    portal_mibs = 1024 / float(seconds)

    target = work / "dd.out"
    started = time.time()
    subprocess.run(["dd", f"if={source}", f"of={target}", "bs=1M", "conv=fdatasync", "status=none"],
                   check=True, timeout=600)
    dd_mibs = 1024 / (time.time() - started)
    METRICS["ingest_ratio"] = portal_mibs / dd_mibs
    table("Embedded bucket ingest, 1 GiB POST with curl (MD5 + CRC-64 + fsync) vs dd conv=fdatasync",
          ["writer", "MiB/s", "ratio to dd", "server peak RSS during upload"],
          [("embedded bucket", f"{portal_mibs:,.0f}", f"{portal_mibs / dd_mibs:.2f}", f"{peak / 1024:.1f} MiB"),
           ("dd", f"{dd_mibs:,.0f}", "1.00", "")])


def bench_page_weight():
    html = urllib.request.urlopen(f"http://{PORTAL}/", timeout=5).read().decode()
    assets = sorted(set(re.findall(r'href="(/pkg/[^"]+)"', html)))
    rows, totals = [], {"br": 0, "gzip": 0, "identity": 0}
    for path in ["/"] + assets:
        sizes = []
        for encoding in ("br", "gzip", "identity"):
            size = int(subprocess.run(
                ["curl", "-sS", "-o", "/dev/null", "-H", f"Accept-Encoding: {encoding}", "-w", "%{size_download}",
                 f"http://{PORTAL}{path}"], capture_output=True, text=True, check=True, timeout=30).stdout)
            totals[encoding] += size
            sizes.append(f"{size / 1000:.1f} KB")
        rows.append((path, *sizes))
    rows.append(("**total**", *(f"**{totals[e] / 1000:.1f} KB**" for e in ("br", "gzip", "identity"))))
    table("First load (HTML + JS + WASM + CSS as served)", ["resource", "brotli", "gzip", "uncompressed"], rows)


def bench_first_load(runs=3):
    """Chromium on loopback with DevTools' Fast 3G profile, on this machine's CPU and as a slow
    phone (4x CPU slowdown, WeChat's user agent): bytes, first paint, usable and interactive."""
    rows = []
    for profile in ("desktop", "slow-phone"):
        out = subprocess.run(["node", str(ROOT / "bench" / "first_load.mjs"), f"http://{PORTAL}/", str(runs), profile],
                             capture_output=True, text=True, check=True, timeout=600).stdout
        results = json.loads(out.strip().splitlines()[-1])
        for i, r in enumerate(results, 1):
            fcp = r["first_contentful_paint_ms"]
            kinds = ", ".join(f"{k} {v / 1000:.1f} KB" for k, v in sorted(r["by_type"].items()))
            rows.append((profile, str(i), f"{r['bytes'] / 1000:.1f} KB", f"{fcp / 1000:.2f} s" if fcp else "-",
                         f"{r['usable_ms'] / 1000:.2f} s", f"{r['interactive_ms'] / 1000:.2f} s", kinds))
        usable = median([r["usable_ms"] for r in results])
        note(f"{profile}: usable after {usable / 1000:.2f} s (median of {runs})")
    table("First load under Fast 3G (562.5 ms RTT, 1.44 Mbit/s down), empty cache, 390x844; usable = a picked "
          "file shows as a row",
          ["profile", "run", "bytes on the wire", "first paint", "usable", "interactive (Upload enabled)", "by type"],
          rows)


def bench_other_pages():
    """The pages without the uploader (open mode, so no sign-in needed): HTML + CSS as served
    (brotli), and whether they name any script or WASM."""
    rows = []
    for path in ("/uploads", "/admin"):
        html = subprocess.run(["curl", "-sS", f"http://{PORTAL}{path}"], capture_output=True, text=True,
                              check=True, timeout=30).stdout
        scripts = re.findall(r'/pkg/[^"]+\.(?:js|wasm)', html)
        css = re.findall(r'href="(/pkg/[^"]+\.css)"', html)
        total = 0
        for url in [path] + css:
            total += int(subprocess.run(
                ["curl", "-sS", "-o", "/dev/null", "-H", "Accept-Encoding: br", "-w", "%{size_download}",
                 f"http://{PORTAL}{url}"], capture_output=True, text=True, check=True, timeout=30).stdout)
        rows.append((path, f"{total / 1000:.1f} KB", "none" if not scripts else ", ".join(scripts)))
    table("Pages without the uploader (HTML + CSS, brotli)", ["page", "bytes", "scripts / WASM"], rows)


def node_json(*args, timeout=1800):
    out = subprocess.run(["node", *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise SystemExit(f"node {args[0]} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_file(path, size):
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(chunk[:min(left, len(chunk))])
            left -= len(chunk)
    return path


def median(values, key=None):
    return sorted(values, key=key)[len(values) // 2]


def curl_post(ticket, path):
    args = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}"]
    for name, value in ticket["fields"]:
        args += ["--form-string", f"{name}={value}"]
    args += ["-F", f"file=@{path}", ticket["url"]]
    code, seconds = subprocess.run(args, capture_output=True, text=True, timeout=1800, check=True).stdout.split()
    if code != "200":
        raise SystemExit(f"curl upload answered {code}")
    return float(seconds)


def tickets(paths, folder):
    return sign({"files": [{"name": p.name, "size": p.stat().st_size, "content_type": "application/octet-stream"}
                           for p in paths], "naming": "random", "folder": folder})


def forget_stored(work, size):
    """Removes the objects of `size` bytes or more that the bench's buckets under `work` hold."""
    for path in work.glob("data-*/*/objects/**/*"):
        if path.is_file() and path.stat().st_size >= size:
            path.unlink()


def bench_uploads(pid, work):
    """The page (headless Chromium) against curl, same bytes, same bucket, loopback."""
    url = f"http://{PORTAL}/"
    script = ROOT / "bench" / "uploads.mjs"
    rows = []
    one = write_file(work / "256mib.bin", 256 << 20)
    # One large file takes about a second, where this machine's noise is tens of percent:
    # the median of three runs of each.
    pages = [node_json(script, url, "upload", one) for _ in range(3)]
    page = median(pages, key=lambda r: r["seconds"])
    curl = median([curl_post(tickets([one], "uploads/bench-curl")[0], one) for _ in range(3)])
    METRICS["upload_large"] = page["seconds"] / curl
    METRICS["upload_large_stall_ms"] = max(r["longest_stall_ms"] for r in pages)
    rows.append(("1 × 256 MiB (one POST), median of 3", f"{page['seconds']:.2f} s", f"{curl:.2f} s",
                 f"{page['seconds'] / curl:.2f}", f"{sum(r['verified'] for r in pages)}/3 verified, longest "
                 f"main-thread stall {METRICS['upload_large_stall_ms']:.0f} ms (worst of 3)"))
    # The browser's own floor: the same POST from a bare XMLHttpRequest, no page engine, no MD5.
    bares = [node_json(script, url, "xhr", one) for _ in range(3)]
    bare = median([r["seconds"] for r in bares])
    METRICS["upload_bare_xhr"] = bare / curl
    rows.append(("1 × 256 MiB, Chromium alone (a bare XMLHttpRequest, no hashing), median of 3",
                 f"{bare:.2f} s", f"{curl:.2f} s", f"{bare / curl:.2f}", "the floor for any page in this browser; "
                 f"longest main-thread stall {max(r['longest_stall_ms'] for r in bares):.0f} ms (worst of 3)"))
    small_dir = work / "small"
    small_dir.mkdir()
    smalls = [write_file(small_dir / f"s{i:03}.bin", 64 << 10) for i in range(200)]
    page = node_json(script, url, "upload", *smalls)
    signed = tickets(smalls, "uploads/bench-curl")
    started = time.time()
    for ticket, path in zip(signed, smalls):
        curl_post(ticket, path)
    curl = time.time() - started
    METRICS["upload_small"] = page["seconds"] / curl
    rows.append(("200 × 64 KiB (3 at a time; curl one by one)", f"{page['seconds']:.2f} s", f"{curl:.2f} s",
                 f"{page['seconds'] / curl:.2f}", f"{page['verified']}/200 verified"))
    big = write_file(work / "2gib.bin", 2 * GIB)
    # Each 2 GiB object kept makes the next 2 GiB slower to write on this machine (curl alone,
    # four in a row: 7.8, 7.5, 9.8, 13.0 s; 7.8 s each when the last was removed): the page and
    # curl each start with none stored.
    forget_stored(work, GIB)
    reset_peak_rss(pid)
    page = node_json(script, url, "upload", big)
    server_peak = rss_kib(pid, "VmHWM")
    forget_stored(work, GIB)
    curl = curl_post(tickets([big], "uploads/bench-curl")[0], big)
    METRICS["upload_parts"] = page["seconds"] / curl
    rows.append(("1 × 2 GiB (page: multipart, 8 MiB parts, 3 at a time; curl: one POST)",
                 f"{page['seconds']:.2f} s", f"{curl:.2f} s", f"{page['seconds'] / curl:.2f}",
                 f"server peak RSS {server_peak / 1024:.1f} MiB, tab peak RSS "
                 f"{page['renderer_peak_rss_kib'] / 1024:.0f} MiB, {page['verified']}/1 verified"))
    table("Uploads through the page (headless Chromium) vs curl -F, same bucket, loopback",
          ["upload", "page", "curl", "ratio page/curl", "notes"], rows)


def bench_photos():
    """"Photo size: Smaller" in headless Chromium at 4× CPU slowdown, on photos the page makes."""
    out = node_json(ROOT / "bench" / "photos.mjs", f"http://{PORTAL}/")
    rows = []
    for photo in out["photos"]:
        saved = 1 - photo["stored_bytes"] / photo["picked_bytes"]
        took = photo["shrinking_ms"]
        rows.append((photo["name"], f"{photo['picked_bytes'] / 1e6:.2f} MB", f"{photo['stored_bytes'] / 1e6:.2f} MB",
                     f"{saved:.0%}", photo["stored_size"], "-" if took is None else f"{took} ms"))
    picked = sum(p["picked_bytes"] for p in out["photos"])
    kept = sum(p["stored_bytes"] for p in out["photos"])
    rows.append(("all five", f"{picked / 1e6:.2f} MB", f"{kept / 1e6:.2f} MB", f"{1 - kept / picked:.0%}", "",
                 f"{out['seconds']:.1f} s from Upload to all stored"))
    twelve = out["photos"][0]
    METRICS["photo_12mp"] = (twelve["stored_bytes"], twelve["shrinking_ms"])
    table("Photo size: Smaller (2560 px, quality 0.85), headless Chromium at 4× CPU slowdown (`bench/photos.mjs`)",
          ["photo", "picked", "stored", "saved", "stored as (upright)", "making smaller"], rows)


class Portal:
    """The release binary on loopback with `extra` settings and a fresh data folder; stopped
    on exit."""

    def __init__(self, work, extra):
        # A data folder (bucket and ledger) of its own: a part's figures do not depend on the
        # rows and objects an earlier part left behind.
        data = tempfile.mkdtemp(dir=work, prefix="data-")
        env = dict(os.environ, LEPTOS_SITE_ADDR=PORTAL, PORTAL_BUCKET_ADDR=BUCKET,
                   PORTAL_DATA_DIR=data, LEPTOS_SITE_ROOT=str(ROOT / "target" / "site"),
                   LEPTOS_OUTPUT_NAME="upload-portal", RUST_LOG="warn",
                   OSS_ACCESS_KEY_ID="LTAIbench", OSS_ACCESS_KEY_SECRET="bench-secret-0123456789",
                   # Throughput is the measure here: the per-address signing limit and the
                   # cap on one user's unfinished tickets are lifted.
                   PORTAL_SIGN_RATE="0", PORTAL_MAX_PENDING="0", **extra)
        self.process = subprocess.Popen([str(PORTAL_BIN)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def __enter__(self):
        wait_until_up(f"http://{PORTAL}/")
        return self.process

    def __exit__(self, *_):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


SIGNERS = [
    ("V1", {"OSS_SIGNATURE_VERSION": "v1"}),
    ("V4", {"OSS_SIGNATURE_VERSION": "v4"}),
    ("V4 + STS", {"OSS_SIGNATURE_VERSION": "v4", "PORTAL_LOCAL_STS_ADDR": "127.0.0.1:9321",
                  "OSS_STS_ROLE_ARN": "acs:ram::1234567890123456:role/bench"}),
]


UPLOADS = {"PORTAL_MAX_FILES": "200", "PORTAL_MULTIPART_THRESHOLD": "512MiB"}


def targets():
    """Each target (issues #7 and #19) against the figure measured, met or short."""
    rows = []
    signing = METRICS.get("signing", {})
    python = {c: v for (label, c), v in signing.items() if label.startswith("Python")}
    for label in ("V1", "V4", "V4 + STS"):
        ours = {c: v for (l, c), v in signing.items() if l == label}
        common = sorted(set(ours) & set(python))
        if not common:
            continue
        ratios = {c: ours[c][0] / python[c][0] for c in common}
        top = max(common)
        p99 = ours.get(8, (0, None))[1]
        ok = all(r >= 1.0 for r in ratios.values()) and ratios[top] >= 3.0 and (p99 is None or p99 <= 2)
        rows.append((f"signing {label}: ≥ 1.0× the Python sample at every concurrency, ≥ 3× at {top}; p99 ≤ 2 ms at 8",
                     " / ".join(f"{ratios[c]:.1f}× at {c}" for c in common)
                     + (f"; p99 at 8: {p99:.2f} ms" if p99 is not None else ""),
                     "met" if ok else "short"))
    if "photo_12mp" in METRICS:
        size, took = METRICS["photo_12mp"]
        ok = size <= 1_000_000 and took is not None and took <= 1500
        rows.append(("a 12 MP photo made smaller: ≤ 1 MB in ≤ 1.5 s at 4× CPU slowdown",
                     f"{size / 1e6:.2f} MB in {took} ms", "met" if ok else "short"))
    if "upload_large_stall_ms" in METRICS:
        r = METRICS["upload_large_stall_ms"]
        rows.append(("longest main-thread stall ≤ 50 ms during the 256 MiB upload", f"{r:.0f} ms",
                     "met" if r <= 50 else "short"))
    if "upload_parts" in METRICS:
        r = METRICS["upload_parts"]
        rows.append(("2 GiB in parts ≤ 2× curl", f"{r:.2f}×", "met" if r <= 2 else "short"))
    for key, label, limit in (("upload_large", "portal upload ≤ 1.15× curl, one large file", 1.15),
                              ("upload_small", "portal upload ≤ 1.5× curl, many small files", 1.5)):
        if key in METRICS:
            measured = f"{METRICS[key]:.2f}×"
            if key == "upload_large" and "upload_bare_xhr" in METRICS:
                measured += f" (Chromium's bare POST alone: {METRICS['upload_bare_xhr']:.2f}×)"
            rows.append((label, measured, "met" if METRICS[key] <= limit else "short"))
    if "ingest_ratio" in METRICS:
        r = METRICS["ingest_ratio"]
        rows.append(("ingest ≥ 0.8× dd", f"{r:.2f}×", "met" if r >= 0.8 else "short"))
    if "rss_idle" in METRICS:
        r = METRICS["rss_idle"]
        rows.append(("server RSS < 20 MiB idle", f"{r:.1f} MiB", "met" if r < 20 else "short"))
    if "rss_inflight" in METRICS:
        r = METRICS["rss_inflight"]
        rows.append(("server RSS < 80 MiB with 200 uploads in flight", f"{r:.1f} MiB", "met" if r < 80 else "short"))
    if "rss_by_size" in METRICS:
        sizes = METRICS["rss_by_size"]
        flat = max(sizes) - min(sizes) < 8
        rows.append(("RSS flat in file size (1 MiB, 100 MiB, 1 GiB)", " / ".join(f"{s:.1f}" for s in sizes) + " MiB",
                     "met" if flat else "short"))
    if "lost" in METRICS:
        ok = METRICS["lost"] == 0 and METRICS["corrupted"] == 0
        rows.append(("0 lost, 0 corrupted (load + soak)", f"{METRICS['lost']} lost, {METRICS['corrupted']} corrupted",
                     "met" if ok else "short"))
    if rows:
        table("Targets", ["target", "measured", "status"], rows)


REPORT_HEADER = """# Upload Portal benchmarks

Written by `bash bench/run.sh` (which builds the release binary and runs `bench/run.py`): every
figure below is from that run, on loopback, on the machine named in its first line. The
portal, its embedded bucket and the load generators share the machine's 2 cores, so ratios
matter more than absolute figures. Fuzzing counts are in `fuzz/README.md`.

"""

REPORT_FOOTER = """
### How each figure is made

- Signing: `wrk` from a second process, `BENCH_SECONDS` (10 unless set) per run,
  `POST /api/sign_uploads` with one file per batch (`bench/sign.lua`); each ticket is
  committed to the SQLite ledger before the reply. The baseline is
  `bench/baseline_signer.py`: what Alibaba's app-server sample does (Python `http.server`, one
  HMAC-SHA1 over a `starts-with` policy per GET), measured the same way in the same run.
- Uploads: headless Chromium drives the real page (`bench/uploads.mjs`) against `curl -F`
  straight to the same bucket with the same bytes; the page's time runs from the click on
  Upload to every row done, so it includes signing, the page's check of each file (its CRC-64,
  hashed as the POST goes and compared with the bucket's `x-oss-hash-crc64ecma`) and the
  portal's confirmation. The 256 MiB figures are medians of three runs and the stall the worst
  of the three (the longest gap between ticks of a 10 ms timer in the page); "Chromium alone"
  is the same signed form POST sent by a bare `XMLHttpRequest` from the same page, without the
  upload engine or any hashing: what any page in this browser pays.
- Ingest: one 1 GiB POST to the embedded bucket (MD5 + CRC-64 while streaming, fsync before the
  rename) against `dd bs=1M conv=fdatasync` on the same disk.
- Memory: `VmHWM` (reset through `clear_refs`) of the one process that runs the portal and
  its bucket, during one upload of each size, and sampled while 200 `curl` uploads held to
  512 KiB/s are in flight together.
- Load and soak (`bench/load.py`): each upload signs, POSTs and confirms like the page; after
  the run every object is read back and its MD5 compared with what was sent.
- Each part (signing per signer, page and memory, uploads, load) starts its own portal on a
  fresh data folder, so no part's figures depend on the rows and objects another left behind.

### Where a target is short, and why

What each shortfall is made of, found by taking it apart on this machine (the dated sections
below give the measurements); the mechanisms hold from run to run, the figures above are this
run's. wrk or Chromium, the portal, its bucket and SQLite share two cores in every figure.

- **Signing: p99 ≤ 2 ms at 8 connections; ≥ 1.0× the sample at 1 and ≥ 3× at 64.** The
  sample computes one HMAC per GET. Each portal request also checks access and both rate
  limits, validates the batch, decides the key and commits the ticket to the ledger before it
  answers: the commit (a few KiB of WAL pages) is about a quarter of the work, the signing
  itself (HMAC, base64, JSON) a few percent. The ledger writes on a connection of its own and
  commits every waiting ticket in one transaction; its pages are 1 KiB. What is left of the
  tail is the WAL checkpoints' disk syncs: with no checkpoints at all (an experiment; the WAL
  must be moved into the database all the same) p99 at 8 was 2.0-2.3 ms, still not under 2.
  The tail is also this machine's noise: two full runs of one build on 2026-12-05 measured
  p99 at 8 of 2.2-2.5 ms and of 8.1-13.7 ms. At 1 connection the portal is about even with
  the sample (0.9-1.1× across runs). At 64 the ratio follows how fast the CPU runs the
  sample's one Python thread: 2.2-3.1× where it served 5,000-7,400 requests/s, 1.4-1.6× where
  it served 10,300 (the portal 12,900-16,900 on both). Answering before the ticket is
  committed would shorten every figure; the portal keeps its promise that every ticket is
  recorded before it leaves.
- **One large file ≤ 1.15× curl, longest stall ≤ 50 ms.** "Chromium alone", the bare POST
  with no check, is the floor, and it alone measured 1.0-1.37× curl before the change below. The page's check
  costs ~0.8 s more renderer CPU (the CRC-64 in WASM and copying each slice into it) and
  ~0.3 s more of the browser process (reading the file a second time) for 256 MiB; on two
  cores that the network process, the bucket and the renderer already fill, that CPU comes out
  as wall time, ~0.5 s. The hash follows the POST (never more than 8 MiB ahead), so the
  upload is no longer slowed at its start; a Web Worker would take the stall off the main
  thread but not the CPU. Skipping the check would meet the target; the page keeps it: every
  stored file is verified end to end. Since the bucket hashes beside its writes (2026-12-05),
  curl is no longer held by the bucket's MD5 on one thread (256 MiB: 0.84 s against 1.20 s)
  while the page's time did not move, so this ratio grew: it now measures Chromium, which the
  bucket no longer hides.
- **Many small files ≤ 1.5× curl, 2 GiB in parts ≤ 2× curl** are met in most runs. Each small
  file is a POST and then the portal's confirmation (a HEAD and a ledger write), three at a
  time, with 200 rows on screen; the bucket writes each part of the upload's part size in
  place in the object's file, so completing 2 GiB takes ~60 ms (copying the parts took
  2.0-5.7 s). What is left of the 2 GiB is the page's work per part (its CRC-64, Chromium's
  PUTs) against the bucket's MD5 and CRC-64 on two cores; OSS and S3 assemble on their side.
- **Ingest ≥ 0.8× dd.** The bucket computes the MD5 of every byte (it is the ETag OSS gives,
  which clients compare) and its CRC-64; the MD5 is ~60 % of the bucket's CPU in `perf`, and
  one MD5 stream runs at ~600 MB/s on these cores. It now runs on a thread of its own beside
  the CRC-64 and the write (1 GiB: 362 MiB/s, 248 before, on a disk where dd syncs
  1,114-1,177 MiB/s): 0.8× of such a disk is beyond one MD5 stream. On 2026-11-30's disk (dd
  369 MiB/s) the target was met.
- **Idle RSS < 20 MiB** depends on what the process served before it idles: the heap is a
  few MiB, the rest is the binary's code pages that requests touched. After the ingest alone
  18.6-18.8 MiB (code 15.8 MiB); after every page and the first-load runs too, 22.1 MiB
  (code 18.0 MiB). `run.py` measures it after what ran before in the same portal.
"""


def bench_exhaustion(pid):
    """The security review's unauthenticated exhaustion probes (W5), bounded: 30 connections
    each sending 6 MiB of unsigned form fields to the bucket, then stalling; 50 connections
    each to the bucket and the portal sending one header line every 15 s; 50 uploads trickling
    a byte every 5 s. What the server holds, and how many connections are still open."""
    import socket
    import threading

    def connect(addr):
        host, port = addr.split(":")
        return socket.create_connection((host, int(port)), timeout=5)

    def alive(sock):
        # Open when a read would block; closed when it returns b"" or fails (a reply
        # carrying a refusal is read and the next read tells).
        sock.setblocking(False)
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return False
        except BlockingIOError:
            return True
        except OSError:
            return False

    rows = []
    before = rss_kib(pid, "VmRSS")
    junk = []
    for _ in range(30):
        sock = connect(BUCKET)
        body_len = 6 << 20
        sock.sendall((f"POST / HTTP/1.1\r\nhost: {BUCKET}\r\ncontent-type: multipart/form-data; boundary=XyZ\r\n"
                      f"content-length: {body_len + 200}\r\n\r\n--XyZ\r\ncontent-disposition: form-data; name=\"junk\"\r\n\r\n").encode())
        junk.append(sock)

    def pour(sock):
        chunk = b"j" * 65536
        try:
            for _ in range(96):
                sock.sendall(chunk)
        except OSError:
            pass

    threads = [threading.Thread(target=pour, args=(s,)) for s in junk]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    time.sleep(2)
    after = rss_kib(pid, "VmRSS")
    open_junk = sum(alive(s) for s in junk)
    rows.append(("30 × 6 MiB of unsigned form fields", f"{(after - before) / 1024:+.1f} MiB RSS",
                 f"{open_junk} of 30 open after 2 s"))
    for s in junk:
        s.close()

    slow = {"bucket": [], "portal": []}
    for name, addr in (("bucket", BUCKET), ("portal", PORTAL)):
        for _ in range(50):
            sock = connect(addr)
            sock.sendall(f"GET / HTTP/1.1\r\nhost: {addr}\r\n".encode())
            slow[name].append(sock)
    trickles = []
    for _ in range(50):
        sock = connect(BUCKET)
        sock.sendall((f"POST / HTTP/1.1\r\nhost: {BUCKET}\r\ncontent-type: multipart/form-data; boundary=XyZ\r\n"
                      f"content-length: 100000\r\n\r\n--XyZ\r\n").encode())
        trickles.append(sock)
    started = time.time()
    while time.time() - started < 40:
        time.sleep(5)
        for sock in trickles:
            try:
                sock.sendall(b"x")
            except OSError:
                pass
        if int(time.time() - started) % 15 < 5:
            for socks in slow.values():
                for sock in socks:
                    try:
                        sock.sendall(b"x-slow: 1\r\n")
                    except OSError:
                        pass
    for name, socks in slow.items():
        rows.append((f"50 × one header line per 15 s to the {name}", "",
                     f"{sum(alive(s) for s in socks)} of 50 open after 40 s"))
    rows.append(("50 uploads trickling a byte every 5 s", "",
                 f"{sum(alive(s) for s in trickles)} of 50 open after 40 s"))
    for socks in list(slow.values()) + [trickles]:
        for sock in socks:
            sock.close()
    table("Unauthenticated exhaustion probes (security review W5; before the fix: +190 MB, all open at 75 s)",
          ["probe", "server memory", "connections"], rows)


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))) // (1024 * 1024)
    disk = subprocess.run(["df", "-h", str(OUT)], capture_output=True, text=True).stdout.splitlines()[-1].split()
    kernel = subprocess.run(["uname", "-sr"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB RAM, {kernel}, disk {disk[0]} ({disk[1]})"


def main():
    duration = int(os.environ.get("BENCH_SECONDS", "10"))
    everything = ["signing", "page", "photos", "ingest", "memory", "uploads", "load", "exhaustion"]
    parts = sys.argv[1:] or everything
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=OUT))
    note(f"machine: {machine()}")
    try:
        if "signing" in parts:
            rows = []
            for label, extra in SIGNERS:
                with Portal(work, extra) as server:
                    bench_signing(label, duration, rows)
                    note(f"server RSS after the {label} signing runs: {rss_kib(server.pid, 'VmRSS') / 1024:.1f} MiB")
            bench_baseline(duration, rows)
            table("Signing (`/api/sign_uploads`, one file per batch, each ticket recorded in the SQLite ledger; "
                  "baseline: GET, wrk on loopback)",
                  ["signer", "connections", "requests/s", "p50", "p99", "failed"], rows)
            signing_ratios(rows)
        if "photos" in parts:
            with Portal(work, {"PORTAL_MAX_FILES": "10"}) as server:
                bench_photos()
        if {"page", "ingest", "memory"} & set(parts):
            with Portal(work, {}) as server:
                if "page" in parts:
                    bench_page_weight()
                    bench_first_load()
                    bench_other_pages()
                if "ingest" in parts:
                    bench_ingest(server.pid, work)
                if "memory" in parts:
                    bench_memory(server.pid, work)
        if "uploads" in parts:
            with Portal(work, UPLOADS) as server:
                bench_uploads(server.pid, work)
        if "load" in parts:
            with Portal(work, {}) as server:
                bench_load(server.pid)
        if "exhaustion" in parts:
            with Portal(work, {}) as server:
                bench_exhaustion(server.pid)
        targets()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        body = "\n".join(REPORT)
        # The whole run is the report; a partial run's figures go to bench/out.
        path = OUT.parent / "REPORT.md" if parts == everything else OUT / f"figures-{'-'.join(parts)}.md"
        header = (REPORT_HEADER if parts == everything else "") + f"Run of {stamp} (`bash bench/run.sh`).\n\n"
        path.write_text(header + body + "\n" + (REPORT_FOOTER if parts == everything else ""))
        print(f"\nwritten: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
