"""Ask the governance dashboard's deployment gate whether a model version may be deployed.

A pipeline step runs this before it deploys and stops when it exits non-zero:

    export GOVERNANCE_URL=https://governance.example.org GOVERNANCE_TOKEN=...
    python -m governance_gate --artifact-file model.pkl --model 7 --environment prod

Standard library only, one file: the dashboard serves it (`/api/v1/gate/client/` with the
pipeline's token, or the link on the gate log page), so a pipeline on a closed network
fetches it from the dashboard itself. Python 3.8 or newer.

Exit codes:
  0  allowed
  1  blocked: the gate's reasons are printed one per line with their codes
  2  usage or bad input (the gate's 400 included): nothing deployable was asked
  3  the gate could not be reached or failed (after the retries), or its answer was not
     one: fail closed, do not deploy
  4  authentication or permission refused (401/403): check the token and its role

The token comes from GOVERNANCE_TOKEN or --token-file, never from the command line, and
is sent only to the given URL over https (or plain http to this machine); redirects are
not followed, so it never travels to another address.
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import os
import re
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request
from http.client import HTTPException
from urllib.parse import urlsplit, urlunsplit

__version__ = "1.0"

ALLOWED, BLOCKED, USAGE, UNAVAILABLE, REFUSED = 0, 1, 2, 3, 4
GATE_PATH = "/api/v1/gate/"
LOG_PATH = "/reviews/gate/"
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
MAX_ANSWER_BYTES = 1024 * 1024
MAX_BACKOFF_SECONDS = 60.0
RETRIED_STATUSES = {429, 500, 502, 503, 504}
CHUNK = 1024 * 1024
TIMEOUTS = (socket.timeout, TimeoutError)  # one class from Python 3.10, two before


class GateClientError(Exception):
    """Stop with ``exit_code`` after printing the message (on standard error)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class _Transient(Exception):
    """A failure worth trying again: no connection, a timeout, a 5xx or 429."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would carry the token to another address: answer it as an error."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="governance_gate",
        allow_abbrev=False,  # "--token" must not pass for "--token-file"
        description="Ask the governance dashboard's deployment gate whether a model version "
        "may run in an environment. The token is read from GOVERNANCE_TOKEN or --token-file.",
        epilog="Exit codes: 0 allowed, 1 blocked, 2 usage or bad input, 3 gate unreachable "
        "or failed (fail closed), 4 authentication or permission refused.",
    )
    p.add_argument(
        "--url",
        default=os.environ.get("GOVERNANCE_URL"),
        help="the dashboard's address, e.g. https://governance.example.org "
        "(default: GOVERNANCE_URL)",
    )
    p.add_argument("--token-file", help="a file holding the API token (default: GOVERNANCE_TOKEN)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--version", type=int, metavar="ID", help="the model version's id")
    what.add_argument("--artifact-sha256", metavar="SHA", help="the artifact's SHA-256")
    what.add_argument(
        "--artifact-file", metavar="PATH", help="the artifact itself (its SHA-256 is computed)"
    )
    p.add_argument(
        "--model", type=int, metavar="ID", help="the model's id, with an artifact (recommended)"
    )
    p.add_argument("--environment", required=True, help="e.g. qa, preprod, prod")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per attempt (30)")
    p.add_argument(
        "--retries", type=int, default=3, help="tries again after a connection error or 5xx (3)"
    )
    p.add_argument(
        "--backoff", type=float, default=2.0, help="seconds before the first retry, doubled (2)"
    )
    p.add_argument("--ca-file", help="a CA bundle for a dashboard behind a private CA")
    p.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow plain http to another machine (the token travels in clear)",
    )
    p.add_argument("--json", action="store_true", help="print the gate's answer as JSON")
    p.add_argument("-V", "--client-version", action="version", version=__version__)
    return p


def file_sha256(path: str) -> str:
    """The SHA-256 of a file, read in chunks (an artifact may be larger than memory)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                digest.update(chunk)
    except OSError as exc:
        raise GateClientError(f"cannot read the artifact {path}: {exc.strerror}", USAGE) from exc
    return digest.hexdigest()


def read_token(token_file: str | None) -> str:
    if token_file:
        try:
            with open(token_file, encoding="utf-8") as f:
                token = f.read().strip()
        except OSError as exc:
            raise GateClientError(f"cannot read the token file: {exc.strerror}", USAGE) from exc
    else:
        token = os.environ.get("GOVERNANCE_TOKEN", "").strip()
    if not token:
        raise GateClientError("no token: set GOVERNANCE_TOKEN or give --token-file", USAGE)
    if any(c.isspace() for c in token):
        raise GateClientError("the token holds white space: is it the right file?", USAGE)
    return token


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def gate_url(url: str | None, *, insecure_http: bool) -> str:
    """The gate's endpoint under the dashboard's address; refuses plain http to another
    machine unless asked, since the token would travel in clear."""
    if not url:
        raise GateClientError("no dashboard address: give --url or set GOVERNANCE_URL", USAGE)
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GateClientError(f"not an http(s) address: {url}", USAGE)
    if parts.scheme == "http" and not insecure_http and not _is_loopback(parts.hostname):
        raise GateClientError(
            f"refusing plain http to {parts.hostname}: the token would travel in clear. "
            "Use https, or --insecure-http on a network you trust.",
            USAGE,
        )
    path = parts.path.rstrip("/")
    if not path.endswith(GATE_PATH.rstrip("/")):
        path += GATE_PATH.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path + "/", "", ""))


def payload_of(args: argparse.Namespace) -> dict:
    """The gate's request body, checked as the gate checks it (so a typo is a usage
    error here, not a call logged as blocked)."""
    environment = args.environment.strip()
    if not environment or len(environment) > 20:
        raise GateClientError("--environment must be 1 to 20 characters", USAGE)
    body: dict = {"environment": environment}
    if args.model is not None and args.model < 1:
        raise GateClientError("--model must be a positive id", USAGE)
    if args.version is not None:
        if args.version < 1:
            raise GateClientError("--version must be a positive id", USAGE)
        if args.model is not None:
            raise GateClientError("--model goes with an artifact, not with --version", USAGE)
        body["model_version"] = args.version
        return body
    sha = args.artifact_sha256 or file_sha256(args.artifact_file)
    if not SHA256.match(sha):
        raise GateClientError("--artifact-sha256 must be 64 hexadecimal characters", USAGE)
    body["artifact_sha256"] = sha.lower()
    if args.model is not None:
        body["model"] = args.model
    return body


def _retry_after(headers) -> float | None:
    try:
        return max(0.0, float(headers.get("Retry-After")))
    except (TypeError, ValueError):
        return None  # absent, or an HTTP date: the backoff decides


def _answer(status: int, raw: bytes) -> tuple[int, dict | None]:
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        body = None
    return status, body if isinstance(body, dict) else None


def post_once(url: str, body: dict, token: str, *, timeout: float, context) -> tuple:
    """One call: (status, JSON object or None). Raises _Transient for what may pass."""
    # gate_url() admits http(s) only, so no file: or custom scheme reaches here.
    request = urllib.request.Request(  # noqa: S310
        url,
        data=json.dumps(body).encode("utf-8"),
        method="POST",
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"governance-gate/{__version__}",
        },
    )
    handlers = [_NoRedirect(), urllib.request.HTTPSHandler(context=context)]
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=timeout) as response:
            return _answer(response.status, response.read(MAX_ANSWER_BYTES))
    except urllib.error.HTTPError as exc:
        return _http_error(exc)
    except (urllib.error.URLError, HTTPException, OSError) as exc:
        raise _transport_error(exc, timeout) from exc


def _http_error(exc: urllib.error.HTTPError) -> tuple[int, dict | None]:
    """A 4xx answer to read; raises for what is tried again (429, 5xx) or refused (3xx)."""
    if exc.code in RETRIED_STATUSES:
        raise _Transient(f"the gate answered {exc.code}", _retry_after(exc.headers)) from exc
    if 300 <= exc.code < 400:
        where = exc.headers.get("Location", "another address")
        raise GateClientError(
            f"the gate answered a redirect ({exc.code}) to {where}; the token is not "
            "sent there: give the final address with --url",
            UNAVAILABLE,
        ) from exc
    try:
        return _answer(exc.code, exc.read(MAX_ANSWER_BYTES))
    except (HTTPException, OSError) as cut:
        raise _Transient(f"the gate's {exc.code} answer was cut short") from cut


def _transport_error(exc: Exception, timeout: float) -> Exception:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ssl.SSLCertVerificationError):
        # Not transient: a retry meets the same certificate.
        return GateClientError(f"TLS verification failed: {reason}", UNAVAILABLE)
    if isinstance(exc, TIMEOUTS) or isinstance(reason, TIMEOUTS):
        return _Transient(f"no answer within {timeout:g} s")
    return _Transient(f"cannot reach the gate: {reason}")


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca_file)
    except OSError as exc:
        raise GateClientError(f"cannot use the CA file {ca_file}: {exc}", USAGE) from exc


def ask(url: str, body: dict, token: str, args: argparse.Namespace, *, err=sys.stderr):
    """The gate's answer, trying again after transient failures with a doubling backoff.
    Raises GateClientError(UNAVAILABLE) when every try failed: the pipeline fails closed."""
    context = tls_context(args.ca_file)
    delay = max(0.0, args.backoff)
    attempts = max(0, args.retries) + 1
    for attempt in range(1, attempts + 1):
        try:
            return post_once(url, body, token, timeout=args.timeout, context=context)
        except _Transient as exc:
            if attempt == attempts:
                raise GateClientError(
                    f"{exc} (after {attempts} {'try' if attempts == 1 else 'tries'}); "
                    "failing closed: do not deploy",
                    UNAVAILABLE,
                ) from exc
            wait = min(
                exc.retry_after if exc.retry_after is not None else delay, MAX_BACKOFF_SECONDS
            )
            print(f"{exc}; trying again in {wait:g} s ({attempt}/{attempts - 1})", file=err)
            time.sleep(wait)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)
    raise AssertionError("unreachable")  # pragma: no cover


def _log_hint(url: str, call) -> str:
    if not isinstance(call, int):
        return ""
    base = url[: -len(GATE_PATH)] if url.endswith(GATE_PATH) else url
    return f" (gate call {call}: {base}{LOG_PATH}?call={call})"


def _detail(body: dict | None, status: int) -> str:
    if not body:
        return f"HTTP {status}"
    if "errors" in body:
        return json.dumps(body["errors"], sort_keys=True)
    return str(body.get("detail") or f"HTTP {status}")


def _asked(asked: dict) -> str:
    if "model_version" in asked:
        what = f"version {asked['model_version']}"
    else:
        what = f"artifact {asked['artifact_sha256'][:12]}"
        what += f" of model {asked['model']}" if "model" in asked else ""
    return f"{what} in {asked['environment']}"


def report(url: str, asked: dict, status: int, body: dict | None, *, out) -> int:
    """Print the answer for a person reading the pipeline's log; return the exit code."""
    hint = _log_hint(url, (body or {}).get("call"))
    if status in (401, 403):
        print(f"refused ({status}): {_detail(body, status)}{hint}", file=out)
        return REFUSED
    if status in (400, 415):
        print(f"bad request ({status}): {_detail(body, status)}{hint}", file=out)
        return USAGE
    if status != 200 or body is None or not isinstance(body.get("allowed"), bool):
        what = "not a gate answer" if status == 200 else f"unexpected HTTP {status}"
        print(f"{what} from {url}; failing closed: do not deploy", file=out)
        return UNAVAILABLE
    allowed = body["allowed"] is True and body.get("decision") == "allowed"
    where = _asked(asked)
    if body.get("model_version") and "model_version" not in asked:
        where += f" (version {body['model_version']})"
    print(f"{'ALLOWED' if allowed else 'BLOCKED'}: {where}{hint}", file=out)
    for reason in body.get("reasons") or []:
        if isinstance(reason, dict):
            print(f"  {reason.get('code', '?')}: {reason.get('message', '')}", file=out)
    for warning in body.get("warnings") or []:
        if isinstance(warning, dict):
            print(f"  warning {warning.get('code', '?')}: {warning.get('message', '')}", file=out)
    return ALLOWED if allowed else BLOCKED


def main(argv: list[str] | None = None, *, out=None, err=None) -> int:
    """Run the client; returns the exit code (see the module's docstring)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return _run(sys.argv[1:] if argv is None else argv, out=out, err=err)
    except GateClientError as exc:
        print(f"governance_gate: {exc}", file=err)
        return exc.exit_code
    except Exception as exc:  # a bug here must not pass for "blocked" (1) or "allowed"
        print(f"governance_gate: unexpected {exc!r}; failing closed: do not deploy", file=err)
        return UNAVAILABLE


def _run(argv: list[str], *, out, err) -> int:
    if any(a == "--token" or a.startswith("--token=") for a in argv):
        # Refused before argparse, which would echo the secret into the pipeline's log.
        raise GateClientError(
            "the token is never given on the command line: set GOVERNANCE_TOKEN or give "
            "--token-file",
            USAGE,
        )
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help is 0, a usage error 2
        return int(exc.code or 0)
    url = gate_url(args.url, insecure_http=args.insecure_http)
    token = read_token(args.token_file)
    body = payload_of(args)
    if args.timeout <= 0:
        raise GateClientError("--timeout must be positive", USAGE)
    status, answer = ask(url, body, token, args, err=err)
    if args.json and answer is not None:
        print(json.dumps(answer, indent=2, sort_keys=True), file=out)
    return report(url, body, status, answer, out=err if args.json else out)


if __name__ == "__main__":
    sys.exit(main())
