#!/usr/bin/env bash
# Runs the Odoo tests of apicenter_connector under Odoo's own test runner, once per Odoo series installed here
# (18.0 and 19.0; the addon is one source for both, see docs/odoo-series.md). A series that is not installed is
# skipped loudly (exit 0 for it), so the rest of the suite still decides the result.
#
#   .ci/odoo-tests.sh            every series found
#   .ci/odoo-tests.sh 19         only that series (18 or 19)
#
#   APICENTER_ODOO18_HOME  Odoo 18 source with odoo-bin (default /opt/odoo18; APICENTER_ODOO_HOME still works)
#   APICENTER_ODOO18_VENV  its virtualenv (default /opt/odoo18-venv; APICENTER_ODOO_VENV still works)
#   APICENTER_ODOO19_HOME  Odoo 19 source with odoo-bin (default /opt/odoo19)
#   APICENTER_ODOO19_VENV  its virtualenv (default /opt/odoo19-venv)
#                          A missing venv is created from .ci/odoo18-requirements.txt (Odoo 19 adds no package for
#                          Python 3.11) plus queue_job of the series.
#   APICENTER_ODOO_DB_USER PostgreSQL superuser role for Odoo (default odoo; created if missing)
#   APICENTER_ODOO_TEST_TAGS  Odoo --test-tags (default /apicenter_connector; e.g. /apicenter_connector:TestFlowJobs)
set -euo pipefail
# setuptools warns on every editable install ("Editable installation … folders with the same name"): expected
# here (the packages are folders of this checkout), and it reads like an error, so it is not shown.
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore:Editable installation}"
cd "$(dirname "$0")/.."

DB_USER="${APICENTER_ODOO_DB_USER:-odoo}"
TEST_TAGS="${APICENTER_ODOO_TEST_TAGS:-/apicenter_connector}"

skip() {
    echo "############################################################"
    echo "## ODOO $SERIES TESTS SKIPPED: $1"
    echo "############################################################"
}

# The home and venv of a series: APICENTER_ODOO<N>_HOME/_VENV, for 18 also the older APICENTER_ODOO_HOME/_VENV.
series_paths() {
    local home_var="APICENTER_ODOO${1}_HOME" venv_var="APICENTER_ODOO${1}_VENV"
    ODOO_HOME="${!home_var:-}"
    ODOO_VENV="${!venv_var:-}"
    if [ "$1" = 18 ]; then
        ODOO_HOME="${ODOO_HOME:-${APICENTER_ODOO_HOME:-/opt/odoo18}}"
        ODOO_VENV="${ODOO_VENV:-${APICENTER_ODOO_VENV:-/opt/odoo18-venv}}"
    else
        ODOO_HOME="${ODOO_HOME:-/opt/odoo$1}"
        ODOO_VENV="${ODOO_VENV:-/opt/odoo$1-venv}"
    fi
}

FAILED=""
DB=""
LOG=""
# An interrupted run leaves neither its database nor its log behind.
trap '[ -z "$DB" ] || su postgres -c "dropdb --if-exists $DB" >/dev/null 2>&1 || true; rm -f "$LOG"' EXIT
run_series() {
    SERIES="$1"
    series_paths "$SERIES"
    [ -f apicenter_connector/__manifest__.py ] || { skip "apicenter_connector has no __manifest__.py yet"; return 0; }
    if ! [ -f "$ODOO_HOME/odoo-bin" ]; then
        skip "no Odoo $SERIES at $ODOO_HOME (set APICENTER_ODOO${SERIES}_HOME; README: Odoo for the tests)"
        return 0
    fi
    if ! grep -q "version_info = ($SERIES, 0" "$ODOO_HOME/odoo/release.py"; then
        echo "## $ODOO_HOME is not an Odoo $SERIES.0 tree"
        FAILED="$FAILED $SERIES"
        return 0
    fi

    if [ ! -x "$ODOO_VENV/bin/python" ]; then
        echo "==> creating Odoo $SERIES's virtualenv $ODOO_VENV"
        python3 -m venv "$ODOO_VENV"
        "$ODOO_VENV/bin/python" -m pip install --quiet --upgrade pip wheel setuptools
        "$ODOO_VENV/bin/python" -m pip install --quiet -r .ci/odoo18-requirements.txt
        "$ODOO_VENV/bin/python" -m pip install --quiet --no-deps "odoo-addon-queue-job>=$SERIES.0,<$SERIES.1"
        # queue_job 19.0 imports openupgradelib (its migration helpers).
        [ "$SERIES" = 18 ] || "$ODOO_VENV/bin/python" -m pip install --quiet openupgradelib
    fi
    # The addon imports the engine, its tests the sandboxes: install both from this checkout into Odoo's environment.
    "$ODOO_VENV/bin/python" -m pip install --quiet --no-deps -e . -e ./apicenter_sandbox
    "$ODOO_VENV/bin/python" -m pip install --quiet httpx pydantic
    # The browser tour (tests/test_tour.py) needs Chromium and websocket-client; without them Odoo skips it.
    "$ODOO_VENV/bin/python" -m pip install --quiet websocket-client \
        || echo "## websocket-client could not be installed: the browser tour will be SKIPPED"

    local rc
    DB="apicenter_test_${SERIES}_$$"
    LOG="$(mktemp)"
    local db="$DB" log="$LOG"
    echo "==> Odoo $SERIES tests of apicenter_connector on a fresh database $db"
    set +e
    "$ODOO_VENV/bin/python" "$ODOO_HOME/odoo-bin" \
        --db_host=127.0.0.1 --db_user="$DB_USER" --db_password="$DB_USER" -d "$db" \
        --addons-path="$ODOO_HOME/odoo/addons,$PWD" \
        -i apicenter_connector --test-enable --test-tags="$TEST_TAGS" \
        --stop-after-init --log-level=test --http-port=0 >"$log" 2>&1
    rc=$?
    set -e
    su postgres -c "dropdb --if-exists $db" >/dev/null 2>&1 || true
    grep -E "(INFO|ERROR|WARNING|CRITICAL) .*(apicenter|odoo.tests|odoo.modules.loading)" "$log" | tail -n 60 || true
    # Odoo exits non-zero when a test failed or the module did not install.
    if [ "$rc" -ne 0 ] || grep -qE " (ERROR|CRITICAL) " "$log"; then
        echo "Odoo $SERIES tests FAILED (exit $rc); full log follows"
        cat "$log"
        FAILED="$FAILED $SERIES"
    elif ! grep -E "[0-9]+ failed, [0-9]+ error\(s\) of [1-9][0-9]* tests" "$log" | tail -n 1; then
        # "of 0 tests": the addon was not even installed (Odoo skips a module it cannot install, e.g. its version).
        echo "Odoo $SERIES ran no test"
        FAILED="$FAILED $SERIES"
    else
        echo "Odoo $SERIES tests passed"
    fi
    rm -f "$log"
}

SERIES_LIST="${*:-18 19}"
for s in $SERIES_LIST; do
    case "$s" in 18|19) ;; *) echo "unknown Odoo series $s (18 or 19)" >&2; exit 2 ;; esac
done

if ! command -v chromium >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
    echo "==> installing Chromium for the browser tour"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1; then
        echo "############################################################"
        echo "## Chromium could not be installed: the browser tour will be SKIPPED"
        echo "############################################################"
    fi
fi
.ci/postgres.sh "$DB_USER"

for s in $SERIES_LIST; do
    run_series "$s"
done
if [ -n "$FAILED" ]; then
    echo "Odoo tests FAILED on series:$FAILED"
    exit 1
fi
