#!/bin/bash
# The entry point of jeeves-postgres: the official postgres image's interface, without root.
#
# On the first start (no $PGDATA/PG_VERSION) it runs initdb with the superuser POSTGRES_USER
# (default postgres) and POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE), allows network logins
# with POSTGRES_HOST_AUTH_METHOD (default scram-sha-256), creates POSTGRES_DB (default: the
# user's name), runs /docker-entrypoint-initdb.d/*.sh and *.sql, then starts the server.
# Later starts keep the data as it is. Arguments starting with '-' are passed to postgres.
set -Eeuo pipefail

fail() { echo "jeeves-postgres: $*" >&2; exit 1; }

# VAR or VAR_FILE (a mounted secret), as the official image allows.
file_env() {
  local var=$1 file_var="${1}_FILE" default=${2:-}
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    fail "both $var and $file_var are set (they are exclusive)"
  fi
  local value=$default
  if [ -n "${!var:-}" ]; then value=${!var}; elif [ -n "${!file_var:-}" ]; then value=$(<"${!file_var}"); fi
  export "$var"="$value"
  unset "$file_var"
}

initialize() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  local auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$auth" != trust ]; then
    fail "the database is uninitialized and no superuser password is set: set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE), or POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without one"
  fi
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA" 2>/dev/null || true
  echo "jeeves-postgres: initializing $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
  # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words, as in the official image
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host="$auth" \
    ${POSTGRES_INITDB_ARGS:-} >/dev/null
  printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

  # A server on the Unix socket only, for the set-up steps.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  local psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres)
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >/dev/null
  fi
  local script
  shopt -s nullglob
  for script in /docker-entrypoint-initdb.d/*; do
    case "$script" in
      *.sh) echo "jeeves-postgres: running $script"; bash "$script" ;;
      *.sql) echo "jeeves-postgres: running $script"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$script" ;;
      *.sql.gz) echo "jeeves-postgres: running $script"; gunzip -c "$script" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
      *) echo "jeeves-postgres: ignoring $script" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  unset POSTGRES_PASSWORD
  echo "jeeves-postgres: initialized"
}

if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi
if [ "$1" = postgres ]; then
  [ "$(id -u)" != 0 ] || fail "run as the postgres user (UID 999), not as root"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    initialize
  fi
fi
exec "$@"
