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
# The coverage report and the register of the demo's run, as a shop would make them
# for its authorisation file (docs/coverage.md); the HTML is kept as the CI's sample.
from=$(date -u -d '-15 min' +%Y-%m-%dT%H:%M:%S+00:00)
to=$(date -u -d '+15 min' +%Y-%m-%dT%H:%M:%S+00:00)
"$ecrin" report coverage -c demo/demo.yaml --from "$from" --to "$to" --format html -o coverage.html
"$ecrin" report coverage -c demo/demo.yaml --from "$from" --to "$to" --format json -o coverage.json
"$ecrin" report coverage -c demo/demo.yaml --from "$from" --to "$to" --format pdf -o coverage.pdf
[ "$(stat -c %a coverage.html)" = 600 ] || { echo "coverage.html is not 0600" >&2; exit 1; }
head -c 5 coverage.pdf | grep -q '%PDF-' || { echo "coverage.pdf is not a PDF" >&2; exit 1; }
grep -q '<svg' coverage.html || { echo "coverage.html has no timeline" >&2; exit 1; }
! grep -Eq '(src|href)="https?://' coverage.html || { echo "coverage.html fetches from the network" >&2; exit 1; }
"$work/venv/bin/python" - coverage.json <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
cameras = {c["id"] for c in report["cameras"]["list"]}
assert {"cam-comptoir", "cam-vitrine"} <= cameras, cameras
covered = [z for z in report["zones"] if z["covered_seconds"] > 0]
assert covered, "no zone of the demo was covered"
PY
"$ecrin" register show -c demo/demo.yaml >register.txt
grep -q "cam-comptoir" register.txt || { cat register.txt; exit 1; }
mkdir -p "$src/samples" && cp coverage.html "$src/samples/coverage-demo.html"
echo "package: the installed wheel checks a configuration, runs the demo (its panel and cameras), verifies its journal, and makes its coverage report (samples/coverage-demo.html) and register"
