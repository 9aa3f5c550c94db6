#!/usr/bin/env bash
# Install, start and prepare a PostgreSQL for the storage tests (Debian, as root); idempotent.
# Usage: eval "$(.ci/postgres.sh)"  or  source .ci/postgres.sh
# Everything but the final export line goes to stderr, so `eval "$(...)"` works.
set -euo pipefail

PG_USER="${LOOPWISE_PG_USER:-loopwise}"
PG_PASSWORD="${LOOPWISE_PG_PASSWORD:-loopwise}"
PG_DB="${LOOPWISE_PG_DB:-loopwise_test}"
PG_PORT="${LOOPWISE_PG_PORT:-5432}"

{
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        apt-get install -y postgresql
    fi

    # The cluster directory is named after the major version (15 on bookworm); take the newest.
    PG_VERSION="$(ls /etc/postgresql | sort -V | tail -n 1)"
    if [ -z "${PG_VERSION}" ]; then
        echo "no PostgreSQL cluster found under /etc/postgresql" >&2
        exit 1
    fi

    if ! pg_lsclusters -h | awk -v v="${PG_VERSION}" '$1 == v && $2 == "main" && $4 == "online" {found=1} END {exit !found}'; then
        pg_ctlcluster "${PG_VERSION}" main start
    fi

    # pg_ctlcluster returns before the server accepts connections on some machines.
    for _ in $(seq 1 30); do
        if su postgres -c "pg_isready -q -p ${PG_PORT}"; then
            break
        fi
        sleep 1
    done
    su postgres -c "pg_isready -p ${PG_PORT}"

    if [ "$(su postgres -c "psql -p ${PG_PORT} -tAc \"SELECT 1 FROM pg_roles WHERE rolname = '${PG_USER}'\"")" != "1" ]; then
        su postgres -c "psql -p ${PG_PORT} -c \"CREATE ROLE ${PG_USER} LOGIN PASSWORD '${PG_PASSWORD}' SUPERUSER\""
    fi
    if [ "$(su postgres -c "psql -p ${PG_PORT} -tAc \"SELECT 1 FROM pg_database WHERE datname = '${PG_DB}'\"")" != "1" ]; then
        su postgres -c "createdb -p ${PG_PORT} -O ${PG_USER} ${PG_DB}"
    fi
} >&2

URL="postgresql+psycopg://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_DB}"
export LOOPWISE_TEST_POSTGRES_URL="${URL}"
echo "export LOOPWISE_TEST_POSTGRES_URL=${URL}"
