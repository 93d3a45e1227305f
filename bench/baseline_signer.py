"""The baseline: what Alibaba's app-server sample for browser uploads does (Python, the
standard library's http.server), for the signing benchmark to run beside the portal.

Per GET it builds a policy with one `starts-with $key` condition and an expiry, base64-encodes
it, signs it with one HMAC-SHA1 under the AccessKey secret, and answers the token as JSON.
Like the sample, it serves one request at a time (`HTTPServer`) over HTTP/1.0.

Usage: python3 bench/baseline_signer.py 127.0.0.1:9400
"""

import base64
import datetime
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

ACCESS_KEY_ID = "LTAIbench"
ACCESS_KEY_SECRET = "bench-secret-0123456789"
HOST = "http://127.0.0.1:9300"
UPLOAD_DIR = "uploads/"
EXPIRE_SECONDS = 30


def get_iso_8601(expire):
    return datetime.datetime.utcfromtimestamp(expire).isoformat() + "Z"


def get_token():
    expire = int(time.time()) + EXPIRE_SECONDS
    policy = json.dumps(
        {"expiration": get_iso_8601(expire), "conditions": [["starts-with", "$key", UPLOAD_DIR]]}
    ).strip()
    policy_encode = base64.b64encode(policy.encode())
    digest = hmac.new(ACCESS_KEY_SECRET.encode(), policy_encode, hashlib.sha1).digest()
    signature = base64.b64encode(digest).strip()
    return json.dumps(
        {
            "accessid": ACCESS_KEY_ID,
            "host": HOST,
            "policy": policy_encode.decode(),
            "signature": signature.decode(),
            "expire": expire,
            "dir": UPLOAD_DIR,
        }
    )


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        token = get_token().encode()
        self.send_response(200)
        self.send_header("Access-Control-Allow-Methods", "POST")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Type", "text/html; charset=UTF-8")
        self.send_header("Content-Length", str(len(token)))
        self.end_headers()
        self.wfile.write(token)

    def log_message(self, *_):
        pass


if __name__ == "__main__":
    host, port = sys.argv[1].rsplit(":", 1)
    HTTPServer((host, int(port)), Handler).serve_forever()
