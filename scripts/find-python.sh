#!/bin/sh
# Print the path of a Python >= 3.12 interpreter, or explain and exit 1.
#
# Looks, in order, at: $PYTHON; python3.13, python3.12 and python3 on PATH; the real
# pyenv interpreters ($(pyenv root)/versions/3.1x*/bin/python3: pyenv's shims fail for a
# version that is installed but not active); /usr/bin/python3. Every candidate is run
# to read its version, so a broken shim or an old interpreter is skipped.
set -u

MIN_MAJOR=3
MIN_MINOR=12
tried=""
seen=""

check() {
  # check CANDIDATE: print its absolute path and exit 0 if it is a usable Python.
  candidate=$1
  [ -n "$candidate" ] || return 1
  if ! path=$(command -v "$candidate" 2>/dev/null); then
    return 1
  fi
  case " $seen " in *" $path "*) return 1 ;; esac
  seen="$seen $path"
  version=$("$path" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null) || {
    tried="$tried
  $candidate ($path): does not run"
    return 1
  }
  if "$path" -c "import sys; sys.exit(sys.version_info < ($MIN_MAJOR, $MIN_MINOR))" 2>/dev/null; then
    # Resolve to the real interpreter so that a venv is made from it, not from a shim.
    real=$("$path" -c 'import sys; print(sys.executable)' 2>/dev/null) || real=$path
    echo "${real:-$path}"
    exit 0
  fi
  tried="$tried
  $candidate ($path): Python $version, too old"
  return 1
}

if [ -n "${PYTHON:-}" ]; then
  check "$PYTHON"
  echo "PYTHON=$PYTHON is not a working Python >= $MIN_MAJOR.$MIN_MINOR.$tried" >&2
  exit 1
fi

for name in python3.13 python3.12 python3; do
  check "$name"
done

pyenv_root=""
if command -v pyenv >/dev/null 2>&1; then
  pyenv_root=$(pyenv root 2>/dev/null || true)
fi
[ -n "$pyenv_root" ] || pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
for candidate in "$pyenv_root"/versions/3.1[2-9]*/bin/python3; do
  [ -x "$candidate" ] && check "$candidate"
done

check /usr/bin/python3

cat >&2 <<MSG
No Python >= $MIN_MAJOR.$MIN_MINOR found. Tried:${tried:-
  (no python3 on PATH)}

Install one, then run the command again:
  Debian/Ubuntu: apt-get install python3 python3-venv   (Debian 13 / Ubuntu 24.04 have 3.12+)
  macOS:         brew install python@3.12
  pyenv:         pyenv install 3.12
or point to an interpreter you already have: PYTHON=/path/to/python3.12 make run
MSG
exit 1
