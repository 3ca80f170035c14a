"""A small client of MLflow's REST API (standard library only): the registry's models
and versions, and their artifacts through the server's artifact proxy. Every failure
(server down, an HTTP error, a URI it cannot read) is an ``MLflowError`` with a sentence
that says what went wrong."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

PAGE = 100
CHUNK = 1024 * 1024


class MLflowError(Exception):
    """MLflow could not be reached or refused a call."""


@dataclass(frozen=True)
class RegistryVersion:
    """One model version as MLflow describes it."""

    name: str
    version: str
    source: str
    run_id: str
    description: str
    tags: dict[str, str]
    model_tags: dict[str, str] = field(default_factory=dict)
    model_description: str = ""


def _tags(items: list[dict] | None) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in items or []}


class MLflowClient:
    """Calls to one tracking server (``base``, e.g. http://127.0.0.1:5000)."""

    def __init__(self, base: str, *, token: str = "", timeout: float = 30) -> None:
        self.base = base.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _open(
        self,
        path: str,
        *,
        params: dict | None = None,
        body: dict | None = None,
        method: str = "",
        data: bytes | None = None,
    ):
        url = self.base + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            headers["Content-Type"] = "application/octet-stream"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310
            url, data=data, headers=headers, method=method or None
        )
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310
        except urllib.error.HTTPError as err:
            detail = err.read()[:300].decode(errors="replace")
            raise MLflowError(f"MLflow answered {err.code} to {path}: {detail}") from err
        except (urllib.error.URLError, OSError) as err:
            raise MLflowError(f"MLflow at {self.base} cannot be reached: {err}") from err

    def call(
        self, path: str, *, params: dict | None = None, body: dict | None = None, method: str = ""
    ) -> dict:
        with self._open(path, params=params, body=body, method=method) as resp:
            try:
                return json.loads(resp.read() or b"{}")
            except ValueError as err:
                raise MLflowError(f"MLflow's answer to {path} is not JSON") from err

    def _pages(self, path: str, key: str, params: dict) -> Iterator[dict]:
        token = ""
        while True:
            page = self.call(path, params={**params, **({"page_token": token} if token else {})})
            yield from page.get(key, [])
            token = page.get("next_page_token", "")
            if not token:
                return

    # --- The registry ---------------------------------------------------------------

    def registered_models(self) -> Iterator[dict]:
        return self._pages(
            "/api/2.0/mlflow/registered-models/search", "registered_models", {"max_results": PAGE}
        )

    def registered_model(self, name: str) -> dict:
        answer = self.call("/api/2.0/mlflow/registered-models/get", params={"name": name})
        return answer.get("registered_model", {})

    def versions(self, model: dict) -> Iterator[RegistryVersion]:
        name = model["name"]
        quoted = name.replace("'", "\\'")
        for item in self._pages(
            "/api/2.0/mlflow/model-versions/search",
            "model_versions",
            {"filter": f"name='{quoted}'", "max_results": PAGE},
        ):
            yield RegistryVersion(
                name=name,
                version=str(item["version"]),
                source=item.get("source", ""),
                run_id=item.get("run_id", ""),
                description=item.get("description", ""),
                tags=_tags(item.get("tags")),
                model_tags=_tags(model.get("tags")),
                model_description=model.get("description", ""),
            )

    def download_uri(self, name: str, version: str) -> str:
        answer = self.call(
            "/api/2.0/mlflow/model-versions/get-download-uri",
            params={"name": name, "version": version},
        )
        return answer.get("artifact_uri", "")

    def set_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        self.call(
            "/api/2.0/mlflow/model-versions/set-tag",
            body={"name": name, "version": version, "key": key, "value": str(value)},
        )

    def aliases(self, name: str) -> dict[str, str]:
        """The registered model's aliases: {alias: version}."""
        model = self.registered_model(name)
        return {a["alias"]: str(a["version"]) for a in model.get("aliases", [])}

    def delete_alias(self, name: str, alias: str) -> None:
        self.call(
            "/api/2.0/mlflow/registered-models/alias",
            body={"name": name, "alias": alias},
            method="DELETE",
        )

    # --- Artifacts, through the server's proxy --------------------------------------

    @staticmethod
    def proxied_path(uri: str) -> str:
        """The path under the artifact proxy of an ``mlflow-artifacts:`` URI; any other
        scheme (the server's store read directly) is refused."""
        parsed = urllib.parse.urlparse(uri)
        if parsed.scheme != "mlflow-artifacts":
            raise MLflowError(
                f"The artifacts are at {uri!r}: only mlflow-artifacts:/ URIs (the tracking "
                "server's artifact proxy, `mlflow server --serve-artifacts`) can be read."
            )
        return parsed.path.strip("/")

    def _files(self, path: str) -> Iterator[str]:
        answer = self.call("/api/2.0/mlflow-artifacts/artifacts", params={"path": path})
        for item in answer.get("files", []):
            child = f"{path}/{item['path']}" if path else item["path"]
            if item.get("is_dir"):
                yield from self._files(child)
            else:
                yield child

    def upload_artifact(self, uri: str, relative: str, content: bytes) -> None:
        """Store one file at ``relative`` under an ``mlflow-artifacts:/`` URI, through
        the server's artifact proxy."""
        quoted = urllib.parse.quote(f"{self.proxied_path(uri)}/{relative}")
        with self._open(
            f"/api/2.0/mlflow-artifacts/artifacts/{quoted}", data=content, method="PUT"
        ):
            pass

    def artifact_digest(self, uri: str) -> tuple[str, list[str]]:
        """The SHA-256 of the artifacts under ``uri``: each file hashed as it streams,
        then the manifest of ``<sha256>  <relative path>`` lines in path order hashed.
        Returns (digest, the flavors its MLmodel file names); no file raises
        ``MLflowError``."""
        root = self.proxied_path(uri)
        lines, flavors = [], []
        for path in sorted(self._files(root)):
            relative = path[len(root) :].lstrip("/")
            digest, head = hashlib.sha256(), b""
            quoted = urllib.parse.quote(path)
            with self._open(f"/api/2.0/mlflow-artifacts/artifacts/{quoted}") as resp:
                while chunk := resp.read(CHUNK):
                    digest.update(chunk)
                    if relative == "MLmodel" and len(head) < CHUNK:
                        head += chunk
            if head:
                flavors = mlmodel_flavors(head.decode(errors="replace"))
            lines.append(f"{digest.hexdigest()}  {relative}\n")
        if not lines:
            raise MLflowError(f"No artifact file under {uri!r}: nothing to fingerprint.")
        return hashlib.sha256("".join(lines).encode()).hexdigest(), flavors


def mlmodel_flavors(text: str) -> list[str]:
    """The flavors an MLmodel file (YAML) names, python_function last: the keys indented
    once under its top-level ``flavors:``."""
    flavors, inside = [], False
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            inside = line.rstrip() == "flavors:"
            continue
        stripped = line.strip()
        if (
            inside
            and line.startswith("  ")
            and not line.startswith("   ")
            and stripped.endswith(":")
        ):
            flavors.append(stripped[:-1])
    return sorted(flavors, key=lambda f: (f == "python_function", f))
