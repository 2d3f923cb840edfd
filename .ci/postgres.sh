#!/usr/bin/env bash
# Starts PostgreSQL 15 when it is down and gives Odoo its own superuser role (Odoo refuses "postgres").
#   .ci/postgres.sh [ROLE]    ROLE defaults to $APICENTER_ODOO_DB_USER or odoo; its password is its name.
set -euo pipefail
DB_USER="${1:-${APICENTER_ODOO_DB_USER:-odoo}}"
if ! pg_lsclusters -h 2>/dev/null | grep -q online; then
    pg_ctlcluster --skip-systemctl-redirect 15 main start
fi
if ! su postgres -c "psql -tAc \"select 1 from pg_roles where rolname='$DB_USER'\"" | grep -q 1; then
    su postgres -c "createuser -s $DB_USER"
fi
su postgres -c "psql -qc \"alter role $DB_USER with password '$DB_USER'\""
