#!/usr/bin/env python3
"""Drives the embedded bucket with Alibaba's official Python SDK, oss2 2.19.1, and checks it answers
as OSS does. One run is one configuration; scripts/sdk.sh runs the matrix.

Configuration (environment):
  SDK_ENDPOINT  the bucket's endpoint, an IP: http://127.0.0.1:9300
  SDK_BUCKET    bucket name (portal-dev)
  SDK_AK, SDK_SK, SDK_REGION (without the oss- prefix: local)
  SDK_STYLE     path: oss2 given the IP writes /<bucket>/<key> (it does so for any IP or
                      `localhost` endpoint, even with is_cname=True);
                cname: is_cname=True with a host name, so requests are /<key> with that Host.
                      oss2 never writes /<key> to an IP, so the name (SDK_CNAME_HOST, default
                      sdk-cname.test) is resolved to the endpoint's IP inside this process only.
  SDK_VERSION   v1 (oss2.Auth) or v4 (oss2.AuthV4 + region=)

Prints one line per check, `ok  <what>` or `FAIL <what>: <detail>`, and exits 1 if any failed.
Everything is written under sdk/py-<style>-<version>-<random>/ and removed at the end; the bucket's
CORS rules are put back exactly as they were.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import sys
import traceback
from urllib.parse import urlparse

import oss2
import requests
from oss2 import exceptions as oe
from oss2.models import BucketCors, CorsRule, PartInfo

ENDPOINT = os.environ["SDK_ENDPOINT"].rstrip("/")
BUCKET = os.environ["SDK_BUCKET"]
AK = os.environ["SDK_AK"]
SK = os.environ["SDK_SK"]
REGION = os.environ.get("SDK_REGION", "local")
STYLE = os.environ.get("SDK_STYLE", "path")
VERSION = os.environ.get("SDK_VERSION", "v1")
CNAME_HOST = os.environ.get("SDK_CNAME_HOST", "sdk-cname.test")
TIMEOUT = 5

if STYLE not in ("path", "cname") or VERSION not in ("v1", "v4"):
    sys.exit(f"SDK_STYLE must be path|cname and SDK_VERSION v1|v4 (got {STYLE!r}, {VERSION!r})")

_endpoint = urlparse(ENDPOINT)
if STYLE == "cname":
    # A CNAME'd domain as the SDK sees one: the endpoint is a name, not an IP. Only this name is
    # redirected, to the endpoint's IP; every other lookup goes to the real resolver.
    _real_getaddrinfo = socket.getaddrinfo

    def _getaddrinfo(host, *args, **kwargs):
        if isinstance(host, (str, bytes)) and (host.decode() if isinstance(host, bytes) else host).lower() == CNAME_HOST:
            host = _endpoint.hostname
        return _real_getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = _getaddrinfo
    SDK_URL = f"{_endpoint.scheme}://{CNAME_HOST}:{_endpoint.port or 80}"
else:
    SDK_URL = ENDPOINT

PREFIX = f"sdk/py-{STYLE}-{VERSION}-{secrets.token_hex(4)}/"
created = set()
uploads = []  # (key, upload_id) of multipart uploads a check may have left open
failures = 0
passes = 0


def make_bucket(secret=SK):
    auth = oss2.AuthV4(AK, secret) if VERSION == "v4" else oss2.Auth(AK, secret)
    kwargs = {"is_cname": STYLE == "cname", "connect_timeout": TIMEOUT}
    if VERSION == "v4":
        kwargs["region"] = REGION
    return oss2.Bucket(auth, SDK_URL, BUCKET, **kwargs)


bucket = make_bucket()


class Failed(Exception):
    pass


def expect(cond, detail):
    if not cond:
        raise Failed(detail)


def expect_eq(got, want, what):
    if got != want:
        raise Failed(f"{what}: got {short(got)}, want {short(want)}")


def short(v, n=160):
    s = repr(v)
    return s if len(s) <= n else s[:n] + f"...({len(s)} chars)"


def describe(e):
    if isinstance(e, oe.OssError):
        details = {k: v for k, v in (e.details or {}).items() if k in ("Code", "Message", "EC")}
        return f"{type(e).__name__} status={e.status} code={e.code!r} {details}"
    return f"{type(e).__name__}: {e}"


def expect_error(fn, status, code, klass=None):
    """Runs fn, which must fail with the given HTTP status and OSS code (and SDK exception class)."""
    try:
        result = fn()
    except oe.OssError as e:
        if klass is not None and not isinstance(e, klass):
            raise Failed(f"want {klass.__name__} ({status} {code}), got {describe(e)}")
        expect(e.status == status and (code is None or e.code == code),
               f"want {status} {code}, got {describe(e)}")
        return e
    raise Failed(f"want {status} {code}, but it succeeded (status {getattr(result, 'status', '?')})")


def check(what):
    def run(fn):
        global failures, passes
        try:
            note = fn()
            print(f"ok  {what}" + (f" ({note})" if note else ""), flush=True)
            passes += 1
        except Failed as e:
            print(f"FAIL {what}: {e}", flush=True)
            failures += 1
        except Exception as e:  # the SDK's own errors and anything unexpected
            where = traceback.extract_tb(e.__traceback__)[-1]
            print(f"FAIL {what}: {describe(e)} [{os.path.basename(where.filename)}:{where.lineno}]", flush=True)
            failures += 1
        return fn
    return run


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def oss_etag(data):
    return '"' + hashlib.md5(data).hexdigest().upper() + '"'


def key(name):
    k = PREFIX + name
    created.add(k)
    return k


def post_object(k, data, content_type, meta):
    """A V1 PostObject form straight to the endpoint (bucket as host), the portal's own way in:
    used to seed objects when the SDK's PutObject is refused, so reads are checked regardless."""
    policy = base64.b64encode(json.dumps({
        "expiration": (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5))
        .strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "conditions": [["starts-with", "$key", PREFIX]],
    }).encode()).decode()
    signature = base64.b64encode(hmac.new(SK.encode(), policy.encode(), hashlib.sha1).digest()).decode()
    fields = {"key": k, "OSSAccessKeyId": AK, "policy": policy, "Signature": signature,
              "success_action_status": "200", "Content-Type": content_type}
    fields.update({f"x-oss-meta-{m}": v for m, v in meta.items()})
    r = requests.post(ENDPOINT + "/", data=fields, files={"file": ("seed.bin", data, content_type)},
                      timeout=TIMEOUT)
    if r.status_code // 100 != 2:
        raise Failed(f"seeding {k} by PostObject too: {r.status_code} {r.text[:200]}")


seed_notes = set()


def seed(name, data, content_type="application/octet-stream", meta=None):
    """Writes an object a check needs: PutObject, or PostObject if PutObject fails."""
    k = key(name)
    meta = meta or {}
    headers = {"Content-Type": content_type}
    headers.update({f"x-oss-meta-{m}": v for m, v in meta.items()})
    try:
        bucket.put_object(k, data, headers=headers)
    except Exception as e:
        seed_notes.add(describe(e))
        post_object(k, data, content_type, meta)
    return k


def seed_or_note(name, data, content_type="application/octet-stream", meta=None):
    """seed() at module level: a failure is noted and the checks that need the object fail."""
    try:
        return seed(name, data, content_type, meta)
    except Exception as e:
        print(f"note could not seed {name}: {describe(e)}")
        return PREFIX + name


def head_status(k):
    try:
        bucket.head_object(k)
        return 200
    except oe.OssError as e:
        return e.status


# ---------------------------------------------------------------- the checks

BODY = secrets.token_bytes(3000)
CT = "text/plain"
META = {"color": "blue-green"}


@check("put_object: bytes with Content-Type and x-oss-meta-*, ETag is the upper-case MD5")
def _():
    k = key("put/plain.txt")
    r = bucket.put_object(k, BODY, headers={"Content-Type": CT, "x-oss-meta-color": "blue-green"})
    expect_eq(r.status, 200, "status")
    expect_eq(r.resp.headers.get("etag"), oss_etag(BODY), "ETag header")
    h = bucket.head_object(k)
    expect_eq(h.content_length, len(BODY), "stored size")
    expect_eq(h.headers.get("content-type"), CT, "stored Content-Type")
    expect_eq(h.headers.get("x-oss-meta-color"), "blue-green", "stored x-oss-meta-color")


@check("put_object with the body's Content-MD5 succeeds")
def _():
    data = b"content-md5 body " * 40
    r = bucket.put_object(key("put/md5-ok.bin"), data, headers={"Content-MD5": md5_b64(data)})
    expect_eq(r.status, 200, "status")
    expect_eq(r.resp.headers.get("etag"), oss_etag(data), "ETag")


@check("put_object with a wrong Content-MD5 is refused: InvalidDigest (400), nothing stored")
def _():
    data = b"wrong digest body " * 40
    k = key("put/md5-bad.bin")
    expect_error(lambda: bucket.put_object(k, data, headers={"Content-MD5": md5_b64(b"other bytes")}),
                 400, "InvalidDigest", oe.InvalidDigest)
    expect_eq(head_status(k), 404, "HEAD after the refused put")


@check("put_object x-oss-forbid-overwrite: true over an existing key: FileAlreadyExists (409), old bytes kept")
def _():
    k = seed("put/forbid.bin", BODY)
    expect_error(lambda: bucket.put_object(k, b"replacement", headers={"x-oss-forbid-overwrite": "true"}),
                 409, "FileAlreadyExists")
    expect_eq(bucket.get_object(k).read(), BODY, "bytes after the refused overwrite")


OBJ = seed_or_note("get/object.txt", BODY, CT, META)


@check("get_object whole: bytes, Content-Type, Content-Length, ETag")
def _():
    r = bucket.get_object(OBJ)
    data = r.read()
    expect_eq(r.status, 200, "status")
    expect(data == BODY, f"body differs: {len(data)} bytes, want {len(BODY)}")
    expect_eq(r.headers.get("content-type"), CT, "Content-Type")
    expect_eq(r.headers.get("content-length"), str(len(BODY)), "Content-Length")
    expect_eq(r.headers.get("etag"), oss_etag(BODY), "ETag")


@check("get_object bytes 10-19: 206, those 10 bytes, Content-Range bytes 10-19/<size>")
def _():
    r = bucket.get_object(OBJ, byte_range=(10, 19))
    data = r.read()
    expect_eq(r.status, 206, "status")
    expect_eq(data, BODY[10:20], "body")
    expect_eq(r.headers.get("content-range"), f"bytes 10-19/{len(BODY)}", "Content-Range")
    expect_eq(r.headers.get("content-length"), "10", "Content-Length")


@check("get_object range starting past the end, no x-oss-range-behavior: OSS ignores it (200, whole object)")
def _():
    r = bucket.get_object(OBJ, byte_range=(len(BODY) + 10, len(BODY) + 20))
    data = r.read()
    expect_eq(r.status, 200, "status")
    expect(data == BODY, f"body is {len(data)} bytes, want the whole {len(BODY)}")
    expect(r.headers.get("content-range") is None, f"Content-Range {r.headers.get('content-range')!r} on a 200")


@check("get_object range starting past the end with x-oss-range-behavior: standard: InvalidRange (416)")
def _():
    expect_error(lambda: bucket.get_object(OBJ, byte_range=(len(BODY) + 10, len(BODY) + 20),
                                           headers={"x-oss-range-behavior": "standard"}),
                 416, "InvalidRange")


@check("head_object: Content-Length, ETag \"<MD5 upper>\", x-oss-meta-* back")
def _():
    h = bucket.head_object(OBJ)
    expect_eq(h.status, 200, "status")
    expect_eq(h.content_length, len(BODY), "content_length")
    expect_eq(h.headers.get("etag"), oss_etag(BODY), "ETag header")
    expect_eq(h.etag, hashlib.md5(BODY).hexdigest().upper(), "oss2's etag")
    expect_eq(h.headers.get("x-oss-meta-color"), "blue-green", "x-oss-meta-color")
    expect_eq(h.content_type, CT, "Content-Type")


@check("get_object If-None-Match: <ETag>: 304, oss2 raises NotModified")
def _():
    expect_error(lambda: bucket.get_object(OBJ, headers={"If-None-Match": oss_etag(BODY)}),
                 304, None, oe.NotModified)
    r = bucket.get_object(OBJ, headers={"If-None-Match": '"0123456789ABCDEF0123456789ABCDEF"'})
    expect_eq((r.status, r.read() == BODY), (200, True), "(status, whole body) for another ETag")


LIST_TREE = ["a.txt", "b.txt", "sub1/c.txt", "sub1/d.txt", "sub2/e.txt"]
for name in LIST_TREE:
    seed_or_note("tree/" + name, name.encode())
TREE = PREFIX + "tree/"


@check("list_objects (V1) prefix + delimiter '/': keys, sizes, ETags and common prefixes")
def _():
    r = bucket.list_objects(prefix=TREE, delimiter="/", max_keys=100)
    expect_eq([o.key for o in r.object_list], [TREE + "a.txt", TREE + "b.txt"], "keys")
    expect_eq([o.size for o in r.object_list], [5, 5], "sizes")
    expect_eq([o.etag for o in r.object_list], [hashlib.md5(b"a.txt").hexdigest().upper(),
                                                hashlib.md5(b"b.txt").hexdigest().upper()], "etags")
    expect_eq(r.prefix_list, [TREE + "sub1/", TREE + "sub2/"], "common prefixes")
    expect_eq(r.is_truncated, False, "is_truncated")


@check("list_objects (V1) max-keys=2 over 5 objects: marker pages 2+2+1, every key once, in order")
def _():
    seen, marker, pages = [], "", 0
    while True:
        r = bucket.list_objects(prefix=TREE, marker=marker, max_keys=2)
        pages += 1
        expect(len(r.object_list) <= 2, f"page {pages} has {len(r.object_list)} keys")
        seen += [o.key for o in r.object_list]
        if not r.is_truncated:
            break
        expect(r.next_marker, f"page {pages} is truncated without NextMarker")
        marker = r.next_marker
        expect(pages < 10, "more than 10 pages")
    expect_eq(seen, [TREE + n for n in LIST_TREE], "keys over all pages")
    expect_eq(pages, 3, "pages")


@check("list_objects_v2 prefix + delimiter '/': keys and common prefixes")
def _():
    r = bucket.list_objects_v2(prefix=TREE, delimiter="/", max_keys=100)
    expect_eq([o.key for o in r.object_list], [TREE + "a.txt", TREE + "b.txt"], "keys")
    expect_eq(r.prefix_list, [TREE + "sub1/", TREE + "sub2/"], "common prefixes")
    expect_eq(r.is_truncated, False, "is_truncated")


@check("list_objects_v2 max-keys=2 over 5 objects: continuation tokens 2+2+1, every key once")
def _():
    seen, token, pages = [], "", 0
    while True:
        r = bucket.list_objects_v2(prefix=TREE, continuation_token=token, max_keys=2)
        pages += 1
        expect(len(r.object_list) <= 2, f"page {pages} has {len(r.object_list)} keys")
        seen += [o.key for o in r.object_list]
        if not r.is_truncated:
            break
        expect(r.next_continuation_token, f"page {pages} is truncated without NextContinuationToken")
        token = r.next_continuation_token
        expect(pages < 10, "more than 10 pages")
    expect_eq(seen, [TREE + n for n in LIST_TREE], "keys over all pages")
    expect_eq(pages, 3, "pages")


@check("delete_object: 204, then head_object: 404 (NoSuchKey)")
def _():
    k = seed("del/one.bin", b"to be deleted")
    r = bucket.delete_object(k)
    expect_eq(r.status, 204, "delete status")
    e = expect_error(lambda: bucket.head_object(k), 404, None, oe.NotFound)
    # HEAD has no body: oss2 names the error only if OSS sends it base64'd in x-oss-err.
    expect(e.code in ("", "NoSuchKey"), f"code {e.code!r}")
    expect_error(lambda: bucket.get_object(k), 404, "NoSuchKey", oe.NoSuchKey)


@check("delete_objects (multi-delete) of 3 keys: all listed as deleted, all gone")
def _():
    keys = [seed(f"multi/{i}.bin", b"x" * i) for i in (1, 2, 3)]
    r = bucket.batch_delete_objects(keys)
    expect_eq(r.status, 200, "status")
    expect_eq(sorted(r.deleted_keys), sorted(keys), "deleted keys")
    expect_eq([head_status(k) for k in keys], [404, 404, 404], "HEAD after")


PART1 = secrets.token_bytes(100 * 1024 + 17)
PART2 = secrets.token_bytes(7 * 1024 + 3)


@check("multipart: init, 2 parts, list_parts, complete, get: same bytes, ETag \"<HEX>-2\"")
def _():
    k = key("mp/object.bin")
    upload_id = bucket.init_multipart_upload(k).upload_id
    uploads.append((k, upload_id))
    expect(upload_id, "empty UploadId")
    r1 = bucket.upload_part(k, upload_id, 1, PART1)
    r2 = bucket.upload_part(k, upload_id, 2, PART2)
    expect_eq(r1.etag, hashlib.md5(PART1).hexdigest().upper(), "part 1 ETag")
    expect_eq(r2.etag, hashlib.md5(PART2).hexdigest().upper(), "part 2 ETag")
    parts = bucket.list_parts(k, upload_id).parts
    expect_eq([(p.part_number, p.size, p.etag) for p in parts],
              [(1, len(PART1), r1.etag), (2, len(PART2), r2.etag)], "list_parts (number, size, etag)")
    c = bucket.complete_multipart_upload(k, upload_id, [PartInfo(1, r1.etag), PartInfo(2, r2.etag)])
    uploads.remove((k, upload_id))
    expect_eq(c.status, 200, "complete status")
    expect(re.fullmatch(r'"[0-9A-F]{32}-2"', c.resp.headers.get("etag", "")),
           f"complete ETag {c.resp.headers.get('etag')!r}, want \"<HEX>-2\"")
    got = bucket.get_object(k).read()
    expect(got == PART1 + PART2, f"object is {len(got)} bytes, want the {len(PART1 + PART2)} of both parts")


@check("multipart abort: 204, then list_parts: NoSuchUpload (404)")
def _():
    k = key("mp/aborted.bin")
    upload_id = bucket.init_multipart_upload(k).upload_id
    uploads.append((k, upload_id))
    bucket.upload_part(k, upload_id, 1, b"part that is thrown away")
    r = bucket.abort_multipart_upload(k, upload_id)
    uploads.remove((k, upload_id))
    expect_eq(r.status, 204, "abort status")
    expect_error(lambda: bucket.list_parts(k, upload_id), 404, "NoSuchUpload", oe.NoSuchUpload)
    expect_eq(head_status(k), 404, "HEAD of the aborted key")


@check("list_multipart_uploads: under a prefix, 2 a page (MultipartUploadIterator) by key and id, folded at '/'")
def _():
    base = PREFIX + "mp/list/"
    started = []
    for name in ["a.bin", "a.bin", "a.bin", "b/1.bin", "名 c.bin"]:  # a page ends among the a.bin
        upload_id = bucket.init_multipart_upload(base + name).upload_id
        uploads.append((base + name, upload_id))
        started.append((base + name, upload_id))
    started.sort()
    paged = [(u.key, u.upload_id) for u in oss2.MultipartUploadIterator(bucket, prefix=base, max_uploads=2)]
    expect_eq(paged, started, "every upload once, by key and upload id")
    folded = bucket.list_multipart_uploads(prefix=base, delimiter="/")
    expect_eq(([u.key for u in folded.upload_list], folded.prefix_list),
              ([base + "a.bin"] * 3 + [base + "名 c.bin"], [base + "b/"]), "(uploads, common prefixes)")
    for k, upload_id in started:
        bucket.abort_multipart_upload(k, upload_id)
        uploads.remove((k, upload_id))
    expect_eq(list(oss2.MultipartUploadIterator(bucket, prefix=base)), [], "uploads left after aborting")


@check("presigned GET URL (sign_url) fetched with plain HTTP: same bytes")
def _():
    url = bucket.sign_url("GET", OBJ, 60)
    r = requests.get(url, timeout=TIMEOUT)
    expect_eq(r.status_code, 200, f"status of {url}")
    expect(r.content == BODY, f"body differs ({len(r.content)} bytes)")


@check("presigned PUT URL with a signed Content-Type: upload, then read back")
def _():
    k = key("presign/put.txt")
    data = b"uploaded through a presigned PUT\n" * 10
    url = bucket.sign_url("PUT", k, 60, headers={"Content-Type": CT})
    r = requests.put(url, data=data, headers={"Content-Type": CT}, timeout=TIMEOUT)
    expect_eq(r.status_code, 200, f"PUT status ({r.text[:200]})")
    expect_eq(r.headers.get("etag"), oss_etag(data), "ETag")
    g = bucket.get_object(k)
    expect_eq((g.read(), g.headers.get("content-type")), (data, CT), "(bytes, Content-Type) read back")


@check("presigned GET with response-content-disposition: the header comes back")
def _():
    disposition = 'attachment; filename="report 1.txt"'
    url = bucket.sign_url("GET", OBJ, 60, params={"response-content-disposition": disposition})
    r = requests.get(url, timeout=TIMEOUT)
    expect_eq(r.status_code, 200, "status")
    expect_eq(r.headers.get("content-disposition"), disposition, "Content-Disposition")
    expect(r.content == BODY, "body differs")


def cors_config():
    try:
        return bucket.get_bucket_cors()
    except oe.NoSuchCors:
        return None


def rule_tuple(r):
    return (r.allowed_origins, r.allowed_methods, r.allowed_headers, r.expose_headers, r.max_age_seconds)


def config_tuple(c):
    return None if c is None else ([rule_tuple(r) for r in c.rules], c.response_vary)


@check("put_bucket_cors / get_bucket_cors round trip; the rules there before are put back exactly")
def _():
    before = cors_config()
    rule = CorsRule(allowed_origins=["https://sdk-check.example"], allowed_methods=["GET", "PUT"],
                    allowed_headers=["x-sdk-check"], expose_headers=["ETag"], max_age_seconds=42)
    try:
        r = bucket.put_bucket_cors(BucketCors([rule]))
        expect_eq(r.status, 200, "put status")
        got = bucket.get_bucket_cors().rules
        expect_eq([(g.allowed_origins, g.allowed_methods) for g in got],
                  [(["https://sdk-check.example"], ["GET", "PUT"])], "rules read back (origins, methods)")
        expect_eq(rule_tuple(got[0]), rule_tuple(rule), "rule read back (all fields)")
    finally:
        if before is None:
            bucket.delete_bucket_cors()
        else:
            bucket.put_bucket_cors(BucketCors(before.rules, before.response_vary))
    expect_eq(config_tuple(cors_config()), config_tuple(before), "rules after restoring")


@check("a wrong secret: SignatureDoesNotMatch (403)" + (", the error echoes StringToSign" if VERSION == "v1" else ""))
def _():
    wrong = make_bucket(SK + "-wrong")
    e = expect_error(lambda: wrong.get_object(OBJ), 403, "SignatureDoesNotMatch", oe.SignatureDoesNotMatch)
    sts = (e.details or {}).get("StringToSign")
    if VERSION == "v1":
        expect(sts is not None, f"no StringToSign in the error: {sorted((e.details or {}).keys())}")
        expect(sts.startswith("GET\n") and sts.endswith(f"/{BUCKET}/{OBJ}"),
               f"StringToSign {sts!r}: want GET\\n... ending /{BUCKET}/{OBJ}")
    else:
        expect(sts is None or sts.startswith("OSS4-HMAC-SHA256\n"), f"StringToSign {sts!r}")


# ---------------------------------------------------------------- cleanup


def cleanup():
    for k, upload_id in uploads:
        try:
            bucket.abort_multipart_upload(k, upload_id)
        except Exception:
            pass
    for k in sorted(created):
        try:
            bucket.delete_object(k)
        except Exception:
            pass
    try:
        left = [o.key for o in oss2.ObjectIteratorV2(bucket, prefix=PREFIX)]
    except Exception as e:
        print(f"note cleanup: could not list {PREFIX} to confirm ({describe(e)})")
        return
    if left:
        print(f"note cleanup: {len(left)} objects left under {PREFIX}: {left[:5]}")


cleanup()
for n in sorted(seed_notes):
    print(f"note some objects were seeded by PostObject: PutObject failed with {n}")
print(f"oss2 {STYLE} {VERSION}: {passes} passed, {failures} failed")
sys.exit(1 if failures else 0)
