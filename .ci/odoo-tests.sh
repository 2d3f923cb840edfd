#!/usr/bin/env bash
# Runs the Odoo tests of apicenter_connector under Odoo's own test runner, when an
# Odoo 18 is installed here. Where it is not, says so loudly and exits 0, so the
# rest of the suite still decides the result.
#
#   APICENTER_ODOO_HOME    Odoo 18 source with odoo-bin (default /opt/odoo18)
#   APICENTER_ODOO_VENV    its virtualenv; created from .ci/odoo18-requirements.txt
#                          when missing (default /opt/odoo18-venv)
#   APICENTER_ODOO_DB_USER PostgreSQL superuser role for Odoo (default odoo; created if missing)
#   APICENTER_ODOO_TEST_TAGS  Odoo --test-tags (default /apicenter_connector; e.g. /apicenter_connector:TestFlowJobs)
set -euo pipefail
# setuptools warns on every editable install ("Editable installation … folders with the same name"): expected
# here (the packages are folders of this checkout), and it reads like an error, so it is not shown.
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore:Editable installation}"
cd "$(dirname "$0")/.."

ODOO_HOME="${APICENTER_ODOO_HOME:-/opt/odoo18}"
ODOO_VENV="${APICENTER_ODOO_VENV:-/opt/odoo18-venv}"
DB_USER="${APICENTER_ODOO_DB_USER:-odoo}"
TEST_TAGS="${APICENTER_ODOO_TEST_TAGS:-/apicenter_connector}"

skip() {
    echo "############################################################"
    echo "## ODOO TESTS SKIPPED: $1"
    echo "############################################################"
    exit 0
}

[ -f apicenter_connector/__manifest__.py ] || skip "apicenter_connector has no __manifest__.py yet"
[ -x "$ODOO_HOME/odoo-bin" ] || [ -f "$ODOO_HOME/odoo-bin" ] || skip "no Odoo 18 at $ODOO_HOME (set APICENTER_ODOO_HOME)"

if [ ! -x "$ODOO_VENV/bin/python" ]; then
    echo "==> creating Odoo's virtualenv $ODOO_VENV"
    python3 -m venv "$ODOO_VENV"
    "$ODOO_VENV/bin/python" -m pip install --quiet --upgrade pip wheel setuptools
    "$ODOO_VENV/bin/python" -m pip install --quiet -r .ci/odoo18-requirements.txt
    "$ODOO_VENV/bin/python" -m pip install --quiet --no-deps 'odoo-addon-queue-job>=18.0,<18.1'
fi
# The addon imports the engine, its tests the sandboxes: install both from this checkout into Odoo's environment.
"$ODOO_VENV/bin/python" -m pip install --quiet --no-deps -e . -e ./apicenter_sandbox
"$ODOO_VENV/bin/python" -m pip install --quiet httpx pydantic
# The browser tour (tests/test_tour.py) needs Chromium and websocket-client; without them Odoo skips it.
"$ODOO_VENV/bin/python" -m pip install --quiet websocket-client \
    || echo "## websocket-client could not be installed: the browser tour will be SKIPPED"
if ! command -v chromium >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
    echo "==> installing Chromium for the browser tour"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1; then
        echo "############################################################"
        echo "## Chromium could not be installed: the browser tour will be SKIPPED"
        echo "############################################################"
    fi
fi

.ci/postgres.sh "$DB_USER"

DB="apicenter_test_$$"
LOG="$(mktemp)"
trap 'su postgres -c "dropdb --if-exists $DB" >/dev/null 2>&1 || true; rm -f "$LOG"' EXIT
echo "==> Odoo tests of apicenter_connector on a fresh database $DB"
set +e
"$ODOO_VENV/bin/python" "$ODOO_HOME/odoo-bin" \
    --db_host=127.0.0.1 --db_user="$DB_USER" --db_password="$DB_USER" -d "$DB" \
    --addons-path="$ODOO_HOME/odoo/addons,$PWD" \
    -i apicenter_connector --test-enable --test-tags="$TEST_TAGS" \
    --stop-after-init --log-level=test --http-port=0 >"$LOG" 2>&1
rc=$?
set -e
grep -E "(INFO|ERROR|WARNING|CRITICAL) .*(apicenter|odoo.tests|odoo.modules.loading)" "$LOG" | tail -n 60 || true
# Odoo exits non-zero when a test failed or the module did not install.
if [ "$rc" -ne 0 ] || grep -qE " (ERROR|CRITICAL) " "$LOG"; then
    echo "Odoo tests FAILED (exit $rc); full log follows"
    cat "$LOG"
    exit 1
fi
grep -E "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$LOG" | tail -n 1 || { echo "Odoo ran no test"; exit 1; }
echo "Odoo tests passed"
