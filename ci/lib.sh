# Shared by ci/test.sh and ci/validate.sh: install, configure and build.
# Sourced, not run.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Debian's interpreter: it sees python3-pytest, -psutil, -numpy, -jsonschema. The pyenv
# python3 that may come first on PATH does not.
PY=/usr/bin/python3

# build DIR [cmake args...]: configure (once) and build every target into DIR.
build() {
  local dir=$1
  shift
  cmake -S "$REPO" -B "$dir" -G Ninja -DPython_EXECUTABLE="$PY" "$@" >/dev/null
  cmake --build "$dir"
}

"$REPO/ci/install-deps.sh"
for mod in pytest psutil numpy jsonschema scipy matplotlib; do
  "$PY" -c "import $mod" 2>/dev/null || {
    echo "ci: $PY cannot import $mod; install python3-$mod (ci/install-deps.sh does)" >&2
    exit 1
  }
done
