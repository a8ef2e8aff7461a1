#!/usr/bin/env bash
# Install Écrin from its wheel into a fresh virtual environment, outside the source
# tree, and use it as a shop would: what the package ships must be enough (the
# high-stock calendar, the demo with its embedded MQTT broker and simulated Frigate
# cameras, the referent page), with nothing read from a checkout.
# Called by `make test` (target `package`); needs the network for the dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
PYTHON="${PYTHON:-python3}"

work=$(mktemp -d)
cleanup() {
    rm -rf "$work"
    [ -n "${made_build:-}" ] && rm -rf "$src/build"  # setuptools builds in the tree
    return 0
}
trap cleanup EXIT
[ -e "$src/build" ] || made_build=1

quietly() {  # run a pip step; show what it said only when it fails
    "$@" >"$work/pip.log" 2>&1 || { cat "$work/pip.log" >&2; exit 1; }
}
echo "package: building the wheel and installing it in a fresh environment"
quietly "$PYTHON" -m pip wheel -q --no-deps -w "$work/dist" "$src"
"$PYTHON" -m venv "$work/venv"
quietly "$work/venv/bin/python" -m pip install -q "$work/dist"/ecrin-*.whl
ecrin="$work/venv/bin/ecrin"

cd "$work"
cp "$src/config/example.yaml" shop.yaml
cp "$src/config/secrets.example.yaml" secrets.yaml && chmod 600 secrets.yaml  # as README says
"$ecrin" check-config shop.yaml
"$ecrin" plugins >plugins.json
grep -q '"escalation"' plugins.json
printf '6091234567890123\n' >capture.txt
"$ecrin" decode envisalink capture.txt >/dev/null 2>&1
"$ecrin" demo --duration 6 --keep demo >demo.log
grep -q "ESCALATION created" demo.log || { cat demo.log; exit 1; }
for camera in cam-comptoir cam-vitrine; do  # behind Frigate, on the embedded broker
    grep -Eq "CAMERA online +$camera\$" demo.log || { cat demo.log; exit 1; }
done
"$ecrin" journal verify --db demo/ecrin-journal.db
# The coverage report's JSON schema is package data, read at run time (and by the API).
"$work/venv/bin/python" -c 'from hub.coverage.render_json import report_schema; report_schema()'
# The bridge's codec ships in the wheel: the hub's plugin imports the file the board runs.
"$work/venv/bin/python" -c 'from plugins.bridge import codec; assert codec.crc16(b"123456789") == 0x29B1'
echo "package: the installed wheel checks a configuration, runs the demo (its panel and cameras) and verifies its journal"
