#!/usr/bin/env python3
"""An example approval service for tatum-kms (the four-eye principle).

The KMS asks `GET|POST {externalUrl}/{id}` before signing pending transaction
`id`; a 2xx answer approves, anything else rejects. This example approves by a
simple rule and, when TATUM_KMS_APPROVAL_SECRET is set, checks the KMS's HMAC
signature, rejects stale or replayed requests, and signs its answer so the KMS
knows the approval came from here (docs/approval.md). Python 3 standard library only.

    python3 approver.py [--host 127.0.0.1] [--port 8080]

Settings (environment):
  TATUM_KMS_APPROVAL_SECRET  shared secret; unset = the original's unsigned mode
  APPROVER_CHAINS            comma-separated chains to approve (POST mode); default all
  APPROVER_DENY_IDS          comma-separated pending transaction ids to refuse
  APPROVER_MAX_SKEW          seconds a signed request may be old (default 300)

Replace the rule in `decide` with your own checks (destination allow-lists,
amount limits, a human in the loop...).
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("TATUM_KMS_APPROVAL_SECRET", "").encode()
CHAINS = {c.strip().upper() for c in os.environ.get("APPROVER_CHAINS", "").split(",") if c.strip()}
DENY = {i.strip() for i in os.environ.get("APPROVER_DENY_IDS", "").split(",") if i.strip()}
MAX_SKEW = int(os.environ.get("APPROVER_MAX_SKEW", "300"))

_seen_nonces = {}
_lock = threading.Lock()


def request_signature(method, target, timestamp, nonce, body):
    payload = "tatum-kms-approval-request/v1\n%s\n%s\n%s\n%s\n%s" % (
        method, target, timestamp, nonce, hashlib.sha256(body).hexdigest())
    return hmac.new(SECRET, payload.encode(), hashlib.sha256).hexdigest()


def approval_signature(request_sig, status):
    payload = "tatum-kms-approval-answer/v1\n%s\n%d" % (request_sig, status)
    return hmac.new(SECRET, payload.encode(), hashlib.sha256).hexdigest()


def verify(handler, body):
    """The request's signature, or None with the reason it is not trusted."""
    h = handler.headers
    ts, nonce, given = (h.get("X-Tatum-KMS-Timestamp"), h.get("X-Tatum-KMS-Nonce"),
                        h.get("X-Tatum-KMS-Signature", ""))
    if not (ts and nonce and given.startswith("v1=")):
        return None, "unsigned request"
    try:
        age = abs(time.time() - int(ts))
    except ValueError:
        return None, "bad timestamp"
    if age > MAX_SKEW:
        return None, "stale request (%ds)" % age
    expected = request_signature(handler.command, handler.path, ts, nonce, body)
    if not hmac.compare_digest(expected, given[3:]):
        return None, "bad signature"
    with _lock:
        now = time.time()
        for n, t in list(_seen_nonces.items()):
            if now - t > 2 * MAX_SKEW:
                del _seen_nonces[n]
        if nonce in _seen_nonces:
            return None, "replayed request"
        _seen_nonces[nonce] = now
    return expected, None


def decide(tx_id, tx):
    """The approval rule: returns (approved, reason)."""
    if tx_id in DENY:
        return False, "id on the deny list"
    if tx is not None and CHAINS and str(tx.get("chain", "")).upper() not in CHAINS:
        return False, "chain %s not allowed" % tx.get("chain")
    return True, "rule passed"


class Handler(BaseHTTPRequestHandler):
    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request_sig = None
        if SECRET:
            request_sig, problem = verify(self, body)
            if problem:
                return self.answer(401, None, problem)
        tx = None
        if self.command == "POST":
            try:
                tx = json.loads(body or b"null")
            except ValueError:
                return self.answer(400, request_sig, "body is not JSON")
        tx_id = self.path.rstrip("/").rsplit("/", 1)[-1]
        approved, reason = decide(tx_id, tx)
        self.answer(200 if approved else 403, request_sig, reason, tx_id)

    do_GET = handle_one
    do_POST = handle_one

    def answer(self, status, request_sig, reason, tx_id="-"):
        self.send_response(status)
        if request_sig and status == 200:
            self.send_header("X-Tatum-KMS-Approval", "v1=" + approval_signature(request_sig, status))
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write((reason + "\n").encode())
        sys.stderr.write("%s %s %s -> %d (%s)\n" % (
            time.strftime("%Y-%m-%dT%H:%M:%S"), self.command, tx_id, status, reason))

    def log_message(self, *args):  # one line per decision is enough
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("APPROVER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("APPROVER_PORT", "8080")))
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    sys.stderr.write("approver listening on http://%s:%d (%s)\n" % (
        args.host, server.server_address[1], "signed mode" if SECRET else "unsigned mode"))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
