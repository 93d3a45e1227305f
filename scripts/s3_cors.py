"""Sets a bucket's CORS rule with a SigV4-signed PutBucketCors (standard library only).

usage: s3_cors.py ENDPOINT REGION BUCKET ACCESS_KEY_ID SECRET ORIGIN...
Exits non-zero unless the store answers 200.
"""

import base64
import datetime
import hashlib
import hmac
import sys
import urllib.parse
import urllib.request


def sign(key, message):
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def main(endpoint, region, bucket, key_id, secret, *origins):
    origins_xml = "".join(f"<AllowedOrigin>{o}</AllowedOrigin>" for o in origins)
    methods = "".join(f"<AllowedMethod>{m}</AllowedMethod>" for m in ("GET", "HEAD", "POST", "PUT"))
    body = (
        "<CORSConfiguration><CORSRule>" + origins_xml + methods
        + "<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>"
        + "<MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>"
    ).encode()
    url = urllib.parse.urlparse(endpoint)
    now = datetime.datetime.now(datetime.timezone.utc)
    date_time, date = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload_hash = hashlib.sha256(body).hexdigest()
    headers = {
        "content-md5": base64.b64encode(hashlib.md5(body).digest()).decode(),
        "host": url.netloc,
        "x-amz-content-sha256": payload_hash,
        "x-amz-date": date_time,
    }
    signed = ";".join(sorted(headers))
    canonical = "\n".join([
        "PUT", f"/{bucket}", "cors=",
        "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), signed, payload_hash,
    ])
    scope = f"{date}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", date_time, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = sign(sign(sign(sign(("AWS4" + secret).encode(), date), region), "s3"), "aws4_request")
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={key_id}/{scope},SignedHeaders={signed},Signature={signature}"
    )
    request = urllib.request.Request(f"{endpoint}/{bucket}?cors", data=body, method="PUT",
                                     headers={k: v for k, v in headers.items() if k != "host"})
    with urllib.request.urlopen(request, timeout=5) as response:
        if response.status != 200:
            raise SystemExit(f"PutBucketCors answered {response.status}")


if __name__ == "__main__":
    if len(sys.argv) < 7:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
