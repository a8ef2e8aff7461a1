#!/usr/bin/env bash
# Install the example plugin (examples/ecrin-example-plugin) into the project's virtual
# environment as an outside package is installed (pip, not editable), then run its
# tests against the installed copy, from outside the source tree: Écrin's test kit
# comes from the pytest11 entry point, the plugin from its ecrin.plugins entry point.
# The plugin is uninstalled afterwards, so that the project's own tests do not see it.
# Called by `make test` (target `example`).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
PYTHON="${PYTHON:-.venv/bin/python}"
PYTHON=$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")
example="$src/examples/ecrin-example-plugin"

work=$(mktemp -d)
cleanup() {
    "$PYTHON" -m pip uninstall -q -y ecrin-example-plugin >/dev/null 2>&1 || true
    rm -rf "$work"
    return 0
}
trap cleanup EXIT

# A copy of the example, so that its build leaves nothing in the tree.
cp -r "$example" "$work/example"
rm -rf "$work/example/build" "$work/example/src/"*.egg-info
"$PYTHON" -m pip install -q "$work/example" >"$work/pip.log" 2>&1 \
    || { cat "$work/pip.log" >&2; exit 1; }

# The tests alone, elsewhere: the module can only come from the installed package.
mkdir "$work/run"
cp -r "$work/example/tests" "$work/example/pyproject.toml" "$work/run/"
cd "$work/run"
for module in ecrin_holdup_box ecrin_sos_pendant; do
    where=$("$PYTHON" -c "import $module; print($module.__file__)")
    case "$where" in
        */site-packages/*) ;;
        *) echo "example: imported from $where, not from the installed package" >&2; exit 1 ;;
    esac
done
for plugin in holdup-box sos-pendant; do
    ECRIN_LOAD_PLUGINS=$plugin "$(dirname "$PYTHON")/ecrin" plugins | grep -q "\"$plugin\"" \
        || { echo "example: ecrin plugins does not list $plugin" >&2; exit 1; }
done
"$(dirname "$PYTHON")/pytest" -q -p no:cacheprovider tests
echo "example: the plugins installed from outside the tree pass their tests"
