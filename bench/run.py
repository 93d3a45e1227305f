"""Runs the first-release benchmarks against a release build on loopback and prints tables.

Started by bench/run.sh (which builds and installs wrk). Every process it starts is stopped
before it returns; every run is bounded in time.
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


def table(title, header, rows):
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


def bench_signing(label, duration, rows):
    for connections in (1, 8, 64):
        threads = min(connections, 2)
        result = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
             "-s", str(ROOT / "bench" / "sign.lua"), f"http://{PORTAL}/api/sign_uploads"],
            capture_output=True, text=True, timeout=duration + 30, check=True,
        ).stdout
        rps = re.search(r"Requests/sec:\s+([\d.]+)", result).group(1)
        p50 = re.search(r"\s50%\s+(\S+)", result).group(1)
        p99 = re.search(r"\s99%\s+(\S+)", result).group(1)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result)
        rows.append((label, connections, f"{float(rps):,.0f}", p50, p99, errors.group(1) if errors else 0))


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
    """Chromium on loopback with DevTools' Fast 3G profile: bytes until interactive and time."""
    out = subprocess.run(["node", str(ROOT / "bench" / "first_load.mjs"), f"http://{PORTAL}/", str(runs)],
                         capture_output=True, text=True, check=True, timeout=600).stdout
    results = json.loads(out.strip().splitlines()[-1])
    rows = []
    for i, r in enumerate(results, 1):
        fcp = r["first_contentful_paint_ms"]
        kinds = ", ".join(f"{k} {v / 1000:.1f} KB" for k, v in sorted(r["by_type"].items()))
        rows.append((str(i), f"{r['bytes'] / 1000:.1f} KB", f"{fcp / 1000:.2f} s" if fcp else "-",
                     f"{r['interactive_ms'] / 1000:.2f} s", kinds))
    table("First load under Fast 3G (562.5 ms RTT, 1.44 Mbit/s down), empty cache, phone viewport",
          ["run", "bytes on the wire", "first paint", "interactive (Upload enabled)", "by type"], rows)


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


def bench_uploads(pid, work):
    """The page (headless Chromium) against curl, same bytes, same bucket, loopback."""
    url = f"http://{PORTAL}/"
    script = ROOT / "bench" / "uploads.mjs"
    rows = []
    one = write_file(work / "256mib.bin", 256 << 20)
    page = node_json(script, url, "upload", one)
    curl = curl_post(tickets([one], "uploads/bench-curl")[0], one)
    rows.append(("1 × 256 MiB (one POST)", f"{page['seconds']:.2f} s", f"{curl:.2f} s",
                 f"{page['seconds'] / curl:.2f}", f"{page['verified']}/1 verified"))
    small_dir = work / "small"
    small_dir.mkdir()
    smalls = [write_file(small_dir / f"s{i:03}.bin", 64 << 10) for i in range(200)]
    page = node_json(script, url, "upload", *smalls)
    signed = tickets(smalls, "uploads/bench-curl")
    started = time.time()
    for ticket, path in zip(signed, smalls):
        curl_post(ticket, path)
    curl = time.time() - started
    rows.append(("200 × 64 KiB (3 at a time; curl one by one)", f"{page['seconds']:.2f} s", f"{curl:.2f} s",
                 f"{page['seconds'] / curl:.2f}", f"{page['verified']}/200 verified"))
    big = write_file(work / "2gib.bin", 2 * GIB)
    reset_peak_rss(pid)
    page = node_json(script, url, "upload", big)
    server_peak = rss_kib(pid, "VmHWM")
    curl = curl_post(tickets([big], "uploads/bench-curl")[0], big)
    rows.append(("1 × 2 GiB (page: multipart, 8 MiB parts, 3 at a time; curl: one POST)",
                 f"{page['seconds']:.2f} s", f"{curl:.2f} s", f"{page['seconds'] / curl:.2f}",
                 f"server peak RSS {server_peak / 1024:.1f} MiB, tab peak RSS "
                 f"{page['renderer_peak_rss_kib'] / 1024:.0f} MiB, {page['verified']}/1 verified"))
    table("Uploads through the page (headless Chromium) vs curl -F, same bucket, loopback",
          ["upload", "page", "curl", "ratio page/curl", "notes"], rows)
    md5 = node_json(script, url, "md5", 256)
    table("MD5 in the page (WASM, 4 MiB slices, one await per slice)",
          ["bytes", "time", "MiB/s", "longest main-thread stall"],
          [(f"{md5['mib']} MiB", f"{md5['seconds']:.2f} s", f"{md5['mib_per_s']:.0f}",
            f"{md5['longest_stall_ms']:.0f} ms")])


class Portal:
    """The release binary on loopback with `extra` settings; stopped on exit."""

    def __init__(self, work, extra):
        env = dict(os.environ, LEPTOS_SITE_ADDR=PORTAL, PORTAL_BUCKET_ADDR=BUCKET,
                   PORTAL_DATA_DIR=str(work / "data"), LEPTOS_SITE_ROOT=str(ROOT / "target" / "site"),
                   LEPTOS_OUTPUT_NAME="upload-portal", RUST_LOG="warn",
                   OSS_ACCESS_KEY_ID="LTAIbench", OSS_ACCESS_KEY_SECRET="bench-secret-0123456789",
                   # Throughput is the measure here: the per-address signing limit is lifted.
                   PORTAL_SIGN_RATE="0", **extra)
        self.process = subprocess.Popen([str(ROOT / "target" / "release" / "upload-portal")], env=env,
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


def main():
    duration = int(os.environ.get("BENCH_SECONDS", "10"))
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=OUT))
    try:
        if sys.argv[1:] == ["uploads"]:
            with Portal(work, UPLOADS) as server:
                bench_uploads(server.pid, work)
            return
        print(f"machine: {os.cpu_count()} cores, {subprocess.run(['uname', '-sr'], capture_output=True, text=True).stdout.strip()}")
        rows = []
        for label, extra in SIGNERS:
            with Portal(work, extra) as server:
                if label == "V4":
                    print(f"server RSS idle: {rss_kib(server.pid, 'VmRSS') / 1024:.1f} MiB")
                bench_signing(label, duration, rows)
                print(f"server RSS after the {label} signing runs: {rss_kib(server.pid, 'VmRSS') / 1024:.1f} MiB")
        table("Signing (`/api/sign_uploads`, one file per batch, wrk on loopback)",
              ["signer", "connections", "requests/s", "p50", "p99", "non-2xx"], rows)
        with Portal(work, {}) as server:
            bench_page_weight()
            bench_first_load()
            bench_ingest(server.pid, work)
        with Portal(work, UPLOADS) as server:
            bench_uploads(server.pid, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
