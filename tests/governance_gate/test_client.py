"""The pipelines' gate client (issue 17) against a stub gate: a real HTTP server in a
thread that answers what each test scripts, so every exit code and error path runs
through urllib as in a pipeline. The real dashboard is in
tests/integration/test_gate_client.py."""

from __future__ import annotations

import ast
import hashlib
import io
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import governance_gate
from governance_gate import client

TOKEN = "s3cret-token-value"
ALLOWED_ANSWER = {
    "allowed": True,
    "decision": "allowed",
    "reasons": [],
    "warnings": [],
    "model_version": 12,
    "environment": "qa",
    "request": 4,
    "call": 345,
    "checked_at": "2026-12-04T08:00:00Z",
}
BLOCKED_ANSWER = {
    **ALLOWED_ANSWER,
    "allowed": False,
    "decision": "blocked",
    "environment": "prod",
    "reasons": [
        {"code": "no-approval", "message": "No approved request for prod."},
        {"code": "not-approved-for-environment", "message": "Approved for QA only."},
    ],
    "warnings": [
        {"code": "finding-opened-after-approval", "message": "Finding 3 opened after approval."}
    ],
    "call": 346,
}


def json_answer(status: int, body, headers=None) -> tuple:
    return (
        status,
        json.dumps(body).encode(),
        {"Content-Type": "application/json", **(headers or {})},
    )


class StubGate:
    """Answers each POST with the next scripted answer (the last one repeats); "hang"
    holds the connection without answering until the test ends."""

    def __init__(self):
        self.script: list = []
        self.requests: list[dict] = []
        self.release = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                stub.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(self.rfile.read(length) or b"null"),
                    }
                )
                answer = stub.script[min(len(stub.requests), len(stub.script)) - 1]
                if answer == "hang":
                    stub.release.wait(10)
                    return
                status, payload, headers = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answers(self, *script) -> StubGate:
        self.script = list(script)
        return self


@pytest.fixture
def gate():
    stub = StubGate()
    stub.thread.start()
    yield stub
    stub.release.set()
    stub.server.shutdown()
    stub.server.server_close()


@pytest.fixture
def token_env(monkeypatch):
    monkeypatch.setenv("GOVERNANCE_TOKEN", TOKEN)
    monkeypatch.delenv("GOVERNANCE_URL", raising=False)


def run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = client.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def ask(gate, *extra) -> tuple[int, str, str]:
    return run("--url", gate.url, "--backoff", "0", *extra)


def test_allowed_exits_0_and_names_the_logged_call(gate, token_env):
    code, out, err = ask(
        gate.answers(json_answer(200, ALLOWED_ANSWER)), "--version", "12", "--environment", "qa"
    )
    assert code == governance_gate.ALLOWED == 0
    assert "ALLOWED: version 12 in qa" in out
    assert f"(gate call 345: {gate.url}/reviews/gate/?call=345)" in out
    [request] = gate.requests
    assert request["path"] == "/api/v1/gate/"
    assert request["headers"]["Authorization"] == f"Token {TOKEN}"
    assert request["body"] == {"model_version": 12, "environment": "qa"}


def test_blocked_exits_1_with_each_reason_and_warning_on_its_own_line(gate, token_env):
    code, out, _ = ask(
        gate.answers(json_answer(200, BLOCKED_ANSWER)), "--version", "12", "--environment", "prod"
    )
    assert code == governance_gate.BLOCKED == 1
    lines = out.splitlines()
    assert lines[0].startswith("BLOCKED: version 12 in prod (gate call 346")
    assert "  no-approval: No approved request for prod." in lines
    assert "  not-approved-for-environment: Approved for QA only." in lines
    assert "  warning finding-opened-after-approval: Finding 3 opened after approval." in lines


def test_an_answer_that_says_allowed_only_halfway_is_blocked(gate, token_env):
    half = {**ALLOWED_ANSWER, "decision": "blocked"}
    code, out, _ = ask(
        gate.answers(json_answer(200, half)), "--version", "12", "--environment", "qa"
    )
    assert code == 1 and out.startswith("BLOCKED")


def test_artifact_file_is_hashed_and_asked_with_its_model(gate, token_env, tmp_path):
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"weights" * 500_000)  # several read chunks
    code, out, _ = ask(
        gate.answers(json_answer(200, ALLOWED_ANSWER)),
        "--artifact-file",
        str(artifact),
        "--model",
        "7",
        "--environment",
        "qa",
    )
    assert code == 0
    sha = hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert gate.requests[0]["body"] == {"artifact_sha256": sha, "model": 7, "environment": "qa"}
    assert f"artifact {sha[:12]} of model 7 in qa (version 12)" in out


def test_artifact_sha256_is_sent_lower_case(gate, token_env):
    sha = "AB" * 32
    code, _, _ = ask(
        gate.answers(json_answer(200, ALLOWED_ANSWER)),
        "--artifact-sha256",
        sha,
        "--environment",
        "qa",
    )
    assert code == 0
    assert gate.requests[0]["body"] == {"artifact_sha256": sha.lower(), "environment": "qa"}


def test_json_prints_the_raw_answer_on_stdout_and_the_summary_on_stderr(gate, token_env):
    code, out, err = ask(
        gate.answers(json_answer(200, BLOCKED_ANSWER)),
        "--version",
        "12",
        "--environment",
        "prod",
        "--json",
    )
    assert code == 1
    assert json.loads(out) == BLOCKED_ANSWER
    assert "no-approval" in err


def test_token_file(gate, monkeypatch, tmp_path):
    monkeypatch.delenv("GOVERNANCE_TOKEN", raising=False)
    (tmp_path / "token").write_text(TOKEN + "\n")
    code, _, _ = ask(
        gate.answers(json_answer(200, ALLOWED_ANSWER)),
        "--version",
        "12",
        "--environment",
        "qa",
        "--token-file",
        str(tmp_path / "token"),
    )
    assert code == 0
    assert gate.requests[0]["headers"]["Authorization"] == f"Token {TOKEN}"


def test_url_from_the_environment_and_a_path_prefix(gate, token_env, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_URL", gate.url + "/governance/")
    gate.answers(json_answer(200, ALLOWED_ANSWER))
    code, _, _ = run("--version", "12", "--environment", "qa")
    assert code == 0
    assert gate.requests[0]["path"] == "/governance/api/v1/gate/"


def test_5xx_then_success_with_retries(gate, token_env):
    gate.answers(
        json_answer(503, {"detail": "busy"}, {"Retry-After": "0"}),
        (502, b"<html>bad gateway</html>", {"Content-Type": "text/html"}),
        json_answer(200, ALLOWED_ANSWER),
    )
    code, out, err = ask(gate, "--version", "12", "--environment", "qa", "--retries", "2")
    assert code == 0 and out.startswith("ALLOWED")
    assert len(gate.requests) == 3
    assert "the gate answered 503; trying again" in err
    assert "the gate answered 502; trying again" in err


def test_5xx_after_every_retry_fails_closed_with_exit_3(gate, token_env):
    gate.answers(json_answer(500, {"detail": "boom"}))
    code, out, err = ask(gate, "--version", "12", "--environment", "qa", "--retries", "2")
    assert code == governance_gate.UNAVAILABLE == 3
    assert len(gate.requests) == 3
    assert "after 3 tries" in err and "do not deploy" in err and out == ""


def test_no_answer_within_the_timeout_fails_closed(gate, token_env):
    gate.answers("hang")
    code, _, err = ask(
        gate, "--version", "12", "--environment", "qa", "--timeout", "0.5", "--retries", "0"
    )
    assert code == 3
    assert "no answer within 0.5 s" in err


def test_nobody_listening_fails_closed_after_the_retries(token_env):
    with socket.socket() as s:  # a port just freed: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = run(
        "--url",
        f"http://127.0.0.1:{port}",
        "--backoff",
        "0",
        "--retries",
        "1",
        "--version",
        "12",
        "--environment",
        "qa",
    )
    assert code == 3
    assert "cannot reach the gate" in err and "after 2 tries" in err


def test_tls_to_a_server_that_does_not_speak_it_fails_closed(gate, token_env):
    https = gate.url.replace("http://", "https://")
    code, _, err = run(
        "--url", https, "--backoff", "0", "--retries", "0", "--version", "12", "--environment", "qa"
    )
    assert code == 3 and "cannot reach the gate" in err


def test_an_unexpected_error_fails_closed_not_blocked(gate, token_env, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(client, "report", broken)  # after the gate answered
    code, out, err = ask(
        gate.answers(json_answer(200, ALLOWED_ANSWER)), "--version", "12", "--environment", "qa"
    )
    assert code == 3 and "RuntimeError('a bug')" in err and out == ""


@pytest.mark.parametrize(
    "answer",
    [
        (200, b"<html>Sign in to the proxy</html>", {"Content-Type": "text/html"}),
        (200, b'["allowed"]', {"Content-Type": "application/json"}),
        json_answer(200, {"decision": "allowed", "allowed": "yes"}),
        json_answer(404, {"detail": "Not found."}),
    ],
    ids=["html", "not-an-object", "allowed-not-a-boolean", "404"],
)
def test_anything_but_a_gate_answer_fails_closed_without_retrying(gate, token_env, answer):
    code, out, _ = ask(gate.answers(answer), "--version", "12", "--environment", "qa")
    assert code == 3
    assert "failing closed" in out
    assert len(gate.requests) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_authentication_or_permission_refused_exits_4(gate, token_env, status):
    body = {"detail": "Invalid token.", "allowed": False, "decision": "blocked"}
    code, out, _ = ask(
        gate.answers(json_answer(status, body)),
        "--version",
        "12",
        "--environment",
        "qa",
        "--retries",
        "3",
    )
    assert code == governance_gate.REFUSED == 4
    assert f"refused ({status}): Invalid token." in out
    assert len(gate.requests) == 1  # never retried


def test_the_gates_400_is_a_usage_error_with_the_errors_and_the_call(gate, token_env):
    body = {
        "allowed": False,
        "decision": "blocked",
        "call": 77,
        "errors": {"environment": ["Ensure this field has no more than 20 characters."]},
    }
    code, out, _ = ask(
        gate.answers(json_answer(400, body)), "--version", "12", "--environment", "qa"
    )
    assert code == governance_gate.USAGE == 2
    assert "bad request (400)" in out and "no more than 20 characters" in out
    assert "gate call 77" in out


def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else(gate, token_env):
    gate.answers((302, b"", {"Location": "http://127.0.0.1:1/elsewhere"}))
    code, _, err = ask(gate, "--version", "12", "--environment", "qa")
    assert code == 3
    assert "redirect (302) to http://127.0.0.1:1/elsewhere" in err
    assert len(gate.requests) == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--url", "http://gate.example.org", "--version", "1", "--environment", "qa"],
            "refusing plain http to gate.example.org",
        ),
        (
            ["--url", "ftp://gate.example.org", "--version", "1", "--environment", "qa"],
            "not an http(s) address",
        ),
        (
            ["--url", "https://gate.example.org:port", "--version", "1", "--environment", "qa"],
            "not an http(s) address",
        ),
        (["--version", "1", "--environment", "qa"], "give --url or set GOVERNANCE_URL"),
        (
            [
                "--url",
                "https://g.example.org",
                "--version",
                "1",
                "--model",
                "2",
                "--environment",
                "qa",
            ],
            "--model goes with an artifact",
        ),
        (
            ["--url", "https://g.example.org", "--version", "0", "--environment", "qa"],
            "--version must be a positive id",
        ),
        (
            ["--url", "https://g.example.org", "--artifact-sha256", "abc", "--environment", "qa"],
            "64 hexadecimal characters",
        ),
        (
            [
                "--url",
                "https://g.example.org",
                "--artifact-file",
                "/nonexistent/model.pkl",
                "--environment",
                "qa",
            ],
            "cannot read the artifact",
        ),
        (
            ["--url", "https://g.example.org", "--version", "1", "--environment", "x" * 21],
            "1 to 20 characters",
        ),
        (
            [
                "--url",
                "https://g.example.org",
                "--version",
                "1",
                "--environment",
                "qa",
                "--timeout",
                "0",
            ],
            "--timeout must be positive",
        ),
        (
            [
                "--url",
                "https://g.example.org",
                "--version",
                "1",
                "--environment",
                "qa",
                "--ca-file",
                "/nonexistent/ca.pem",
            ],
            "cannot use the CA file /nonexistent/ca.pem",
        ),
    ],
)
def test_bad_input_exits_2_before_any_call(token_env, argv, message):
    code, _, err = run(*argv)
    assert code == 2
    assert message in err


def test_no_token_exits_2(monkeypatch, tmp_path):
    monkeypatch.delenv("GOVERNANCE_TOKEN", raising=False)
    code, _, err = run("--url", "https://g.example.org", "--version", "1", "--environment", "qa")
    assert code == 2 and "no token" in err
    (tmp_path / "empty").write_text("\n")
    code, _, err = run(
        "--url",
        "https://g.example.org",
        "--version",
        "1",
        "--environment",
        "qa",
        "--token-file",
        str(tmp_path / "empty"),
    )
    assert code == 2 and "no token" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--version", "1"],  # no environment
        ["--environment", "qa"],  # nothing asked
        ["--version", "1", "--artifact-sha256", "a" * 64, "--environment", "qa"],
        ["--version", "one", "--environment", "qa"],
    ],
)
def test_argument_errors_exit_2(token_env, capsys, argv):
    assert client.main(argv) == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--token", TOKEN], [f"--token={TOKEN}"]])
def test_a_token_on_the_command_line_is_refused_without_echoing_it(token_env, argv):
    code, out, err = run(
        *argv, "--url", "https://g.example.org", "--version", "1", "--environment", "qa"
    )
    assert code == 2
    assert "never given on the command line" in err and TOKEN not in out + err


def test_help_exits_0(capsys):
    assert client.main(["--help"]) == 0
    assert "Exit codes: 0 allowed, 1 blocked" in capsys.readouterr().out


@pytest.mark.parametrize(
    "url, insecure, expected",
    [
        ("https://gate.example.org", False, "https://gate.example.org/api/v1/gate/"),
        ("https://gate.example.org/api/v1/gate", False, "https://gate.example.org/api/v1/gate/"),
        ("http://localhost:8000/", False, "http://localhost:8000/api/v1/gate/"),
        ("http://[::1]:8000", False, "http://[::1]:8000/api/v1/gate/"),
        ("http://10.1.2.3:8000", True, "http://10.1.2.3:8000/api/v1/gate/"),
    ],
)
def test_gate_url(url, insecure, expected):
    assert client.gate_url(url, insecure_http=insecure) == expected


def test_the_served_file_is_standalone_python_38():
    """A pipeline runs the downloaded file with whatever Python it has: one file, the
    standard library only, no syntax newer than 3.8."""
    source = Path(client.__file__).read_text()
    tree = ast.parse(source, feature_version=(3, 8))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported - {"__future__"} <= sys.stdlib_module_names
    assert 'if __name__ == "__main__":' in source
