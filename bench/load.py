"""Load and soak against a running portal and its embedded bucket (loopback, a second process).

Each upload is what a browser does: sign one file (`/api/sign_uploads`), POST it to the bucket
with the ticket's fields, confirm it (`/api/confirm_upload`, which HEADs the object). Every
object is then read back from the bucket and its MD5 compared with what was sent.

  python3 bench/load.py load  PORTAL BUCKET_PID COUNT CONCURRENCY
  python3 bench/load.py soak  PORTAL BUCKET_PID SECONDS RATE

Prints one JSON line of figures. Used by bench/run.py; bounded in time by its arguments.
"""

import hashlib
import http.client
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

SIZES = (1 << 10, 16 << 10, 64 << 10)


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Client:
    """One keep-alive connection to the portal and one to the bucket, per worker."""

    def __init__(self, portal):
        self.portal = portal
        self.portal_conn = http.client.HTTPConnection(portal, timeout=30)
        self.bucket_conn = None

    def call(self, endpoint, body):
        self.portal_conn.request("POST", f"/api/{endpoint}", json.dumps(body),
                                 {"Content-Type": "application/json"})
        response = self.portal_conn.getresponse()
        data = response.read()
        return response.status, data

    def post(self, ticket, name, data):
        url = urlsplit(ticket["url"])
        if self.bucket_conn is None:
            self.bucket_conn = http.client.HTTPConnection(url.netloc, timeout=30)
        boundary = uuid.uuid4().hex
        parts = []
        for field, value in ticket["fields"]:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n{value}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode())
        body = b"".join(parts) + data + f"\r\n--{boundary}--\r\n".encode()
        self.bucket_conn.request("POST", url.path or "/", body,
                                 {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        response = self.bucket_conn.getresponse()
        response.read()
        return response.status, (response.getheader("ETag") or "").strip('"')

    def get(self, url):
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.netloc, timeout=30)
        conn.request("GET", parts.path)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, data


def upload_one(client, i):
    """Returns (seconds, key, md5 sent, error or None)."""
    data = os.urandom(SIZES[i % len(SIZES)])
    md5 = hashlib.md5(data).hexdigest().upper()
    name = f"load-{i}.bin"
    started = time.perf_counter()
    try:
        status, body = client.call("sign_uploads", {"batch": {
            "files": [{"name": name, "size": len(data), "content_type": "application/octet-stream"}],
            "naming": "random", "folder": "uploads/load"}})
        if status != 200:
            return time.perf_counter() - started, None, md5, f"sign {status}"
        ticket = json.loads(body)[0]
        status, etag = client.post(ticket, name, data)
        if status != 200:
            return time.perf_counter() - started, ticket["key"], md5, f"post {status}"
        status, _ = client.call("confirm_upload", {"key": ticket["key"], "etag": etag})
        if status != 200:
            return time.perf_counter() - started, ticket["key"], md5, f"confirm {status}"
        return time.perf_counter() - started, (ticket["key"], ticket["object_url"]), md5, None
    except (OSError, http.client.HTTPException) as error:
        client.portal_conn.close()
        client.bucket_conn = None
        return time.perf_counter() - started, None, md5, type(error).__name__


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0


def verify(results):
    """Reads every stored object back: (lost, corrupted)."""
    client = Client("unused")
    lost = corrupted = 0
    for _, stored, md5, error in results:
        if error is not None or stored is None:
            continue
        status, data = client.get(stored[1])
        if status != 200:
            lost += 1
        elif hashlib.md5(data).hexdigest().upper() != md5:
            corrupted += 1
    return lost, corrupted


def summary(results, seconds):
    latencies = [r[0] for r in results]
    errors = [r[3] for r in results if r[3] is not None]
    lost, corrupted = verify(results)
    return {
        "uploads": len(results),
        "seconds": round(seconds, 1),
        "per_second": round(len(results) / seconds, 1),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "lost": lost,
        "corrupted": corrupted,
        "verified": len(results) - len(errors) - lost - corrupted,
    }


def load(portal, pid, count, concurrency):
    results, lock, counter = [], threading.Lock(), iter(range(count))
    peak = [0]

    def worker():
        client = Client(portal)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            result = upload_one(client, i)
            with lock:
                results.append(result)

    def sample():
        while len(results) < count:
            peak[0] = max(peak[0], rss_kib(pid))
            time.sleep(0.2)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = summary(results, time.perf_counter() - started)
    out["server_peak_rss_mib"] = round(peak[0] / 1024, 1)
    return out


def soak(portal, pid, seconds, rate):
    """`rate` uploads a second for `seconds`, from 8 workers; RSS sampled every 10 s."""
    results, lock = [], threading.Lock()
    deadline = time.perf_counter() + seconds
    interval = 8 / rate
    samples = []

    def worker(offset):
        client = Client(portal)
        i = offset
        next_at = time.perf_counter() + offset * interval / 8
        while time.perf_counter() < deadline:
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            result = upload_one(client, 1_000_000 + i)
            with lock:
                results.append(result)
            i += 8
            next_at += interval

    def sample():
        start = time.perf_counter()
        while time.perf_counter() < deadline:
            samples.append((round(time.perf_counter() - start), rss_kib(pid)))
            time.sleep(10)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    sampler = threading.Thread(target=sample)
    sampler.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sampler.join()
    out = summary(results, time.perf_counter() - started)
    # Drift: the last minute's RSS against the second minute's (after warm-up).
    early = [kib for t, kib in samples if 60 <= t < 120] or [samples[0][1]]
    late = [kib for t, kib in samples if t >= seconds - 60] or [samples[-1][1]]
    out["rss_start_mib"] = round(samples[0][1] / 1024, 1)
    out["rss_after_warmup_mib"] = round(sum(early) / len(early) / 1024, 1)
    out["rss_end_mib"] = round(sum(late) / len(late) / 1024, 1)
    out["rss_max_mib"] = round(max(kib for _, kib in samples) / 1024, 1)
    out["rss_samples"] = len(samples)
    return out


if __name__ == "__main__":
    mode, portal, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    a, b = int(sys.argv[4]), float(sys.argv[5])
    figures = load(portal, pid, a, int(b)) if mode == "load" else soak(portal, pid, a, b)
    print(json.dumps(figures))
