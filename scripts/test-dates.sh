#!/usr/bin/env bash
# Run the date-sensitive tests (escalation, end to end, HTTP) with the machine's clock set
# inside each shipped high-stock period, across a year's end and across a change of
# summer time (libfaketime): the suite must give the same result on any day, and
# `make test` must never turn red because of the date it runs on.
# Called by `make test` (target `dates`); needs `faketime` (the bootstrap installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"

if ! command -v faketime >/dev/null 2>&1; then
    echo "dates: faketime is missing (apt-get install faketime); not run" >&2
    exit 1
fi
# UTC instants: Saint-Valentin, Fête des mères 2027 (20-30 May), New Year's Eve ten
# seconds before midnight in Paris, and the night summer time starts in Paris.
for when in "2027-02-10 10:00:00" "2027-05-25 21:30:00" "2026-12-31 22:59:50" \
    "2027-03-28 00:59:50"; do
    echo "dates: the clock at $when UTC"
    faketime -f "@$when" "$PYTHON" -m pytest -q -p no:cacheprovider --no-header \
        tests/e2e tests/escalation tests/http | tail -n 3
done
