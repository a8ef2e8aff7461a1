#!/usr/bin/env bash
# Set up everything Écrin needs on this machine, idempotently:
#   - Debian packages the tests and the demo use (mosquitto, chromium, faketime), and the
#     Pango libraries the coverage report's PDF needs (libpango-1.0-0, libpangoft2-1.0-0),
#     when missing;
#   - a virtual environment in .venv with Écrin and its development tools.
# Called by `make demo` and `make test`; safe to run again (it only does what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

need_apt=()
# The broker tests need both mosquitto and mosquitto_passwd (Debian's mosquitto package).
{ command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; } \
    && command -v mosquitto_passwd >/dev/null 2>&1 || need_apt+=(mosquitto)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v faketime >/dev/null 2>&1 || need_apt+=(faketime)
# WeasyPrint (the coverage report as PDF) loads Pango with the system's loader.
# Each library's file, and the Debian package that holds it.
for pair in libpango-1.0.so.0:libpango-1.0-0 libpangoft2-1.0.so.0:libpangoft2-1.0-0; do
    { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q "${pair%%:*}" \
        || need_apt+=("${pair#*:}")
done
if [ "${#need_apt[@]}" -gt 0 ] && [ "${ECRIN_SKIP_APT:-0}" != "1" ]; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        echo "bootstrap: installing Debian packages: ${need_apt[*]}"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        echo "bootstrap: please install ${need_apt[*]} with your system's package manager" >&2
    fi
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "bootstrap: Écrin needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version))" >&2
    exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "bootstrap: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.ecrin-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "bootstrap: installing Écrin and its development tools into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -e '.[dev]'
    touch "$stamp"
fi
