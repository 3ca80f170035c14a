#!/bin/sh
# Create or update the project's virtualenv.
#
#   scripts/venv.sh VENV REQUIREMENTS_FILE
#
# Reuses VENV when it runs Python >= 3.12 and its stamp for REQUIREMENTS_FILE matches a
# hash of every requirements*.txt (and the interpreter version); otherwise (re)installs.
# A venv made with an older or a removed Python is recreated.
set -eu

venv=${1:?usage: scripts/venv.sh VENV REQUIREMENTS_FILE}
requirements=${2:?usage: scripts/venv.sh VENV REQUIREMENTS_FILE}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."

say() { printf '==> %s\n' "$*"; }

usable() {
  [ -x "$venv/bin/python" ] &&
    "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null
}

if ! usable; then
  if [ -e "$venv" ]; then
    if [ ! -f "$venv/pyvenv.cfg" ]; then
      echo "$venv exists but is not a virtualenv; move it away or set VENV=another/path." >&2
      exit 1
    fi
    say "Recreating $venv: its Python is missing or older than 3.12"
    rm -rf "$venv"
  fi
  python=$(sh "$here/find-python.sh") || exit 1
  say "Creating $venv with $python ($("$python" --version 2>&1))"
  if ! "$python" -m venv "$venv"; then
    rm -rf "$venv"
    echo "Could not create a virtualenv with $python. On Debian/Ubuntu install the venv" >&2
    echo "module (apt-get install python3-venv, or python3.12-venv), or set PYTHON=." >&2
    exit 1
  fi
fi

stamp="$venv/.stamp-$(basename "$requirements" .txt)"
hash=$("$venv/bin/python" - <<'PY'
import glob
import hashlib
import sys

digest = hashlib.sha256(sys.version.encode())
for name in sorted(glob.glob("requirements*.txt")):
    digest.update(name.encode() + b"\0")
    with open(name, "rb") as fh:
        digest.update(fh.read())
print(digest.hexdigest())
PY
)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
  say "$venv is up to date with $requirements"
  exit 0
fi

say "Installing $requirements into $venv"
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements"
echo "$hash" >"$stamp"
