"""`.env.example` lists every variable the settings read (issue 18): an operator copies
from it, so a variable missing there is a setting nobody knows exists."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def variables_read(path: Path) -> set[str]:
    """Names passed to ``env(...)``, ``env.<cast>(...)``, ``os.environ`` and ``getenv``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args:
            first, func = node.args[0], ast.unparse(node.func)
            if (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and re.fullmatch(r"[A-Z][A-Z0-9_]+", first.value)
                and re.search(r"\benv\b|environ|getenv", func)
            ):
                names.add(first.value)
        if (
            isinstance(node, ast.Subscript)
            and "environ" in ast.unparse(node.value)
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(node.slice.value)
    return names


def test_every_variable_the_settings_read_is_in_env_example():
    read = set().union(*(variables_read(p) for p in (ROOT / "governance").glob("settings*.py")))
    assert {"DJANGO_SECRET_KEY", "DJANGO_SITE_URL", "DJANGO_DEFAULT_FROM_EMAIL"} <= read
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert sorted(read - listed - {"DJANGO_SETTINGS_MODULE"}) == []
