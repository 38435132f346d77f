#!/usr/bin/env bash
# Least-privilege database roles for Vidline: one login role per service that uses the database, each owning only the
# tables its own migrations create (shared/service-defaults/Database.cs). The stage services get none.
#   vidline_ingest       ingest-api        password INGEST_DB_PASSWORD
#   vidline_gateway      progress-gateway  password GATEWAY_DB_PASSWORD
#   vidline_key_readers  no login: may read the api_keys table (its migration grants SELECT to this role, whichever
#                        service created it); both services are members, so each authenticates API keys without any
#                        right on the other's tables. Keys are created and revoked by an operator (scripts/keys.sh).
# Neither role is a superuser or may create databases or roles; both may connect to the one database and create
# tables in its public schema (their migrations), and nothing else. PUBLIC loses CONNECT on that database.
#
# Idempotent (creates what is missing, sets the passwords each time). Runs as the superuser, through psql:
#   - in docker-compose.yml from /docker-entrypoint-initdb.d when the postgres volume is created (POSTGRES_USER and
#     POSTGRES_DB come from the image's environment, psql finds the server on its socket);
#   - by hand on a database created before: docker compose exec postgres bash /docker-entrypoint-initdb.d/10-init-roles.sh
#   - or anywhere with PGHOST/PGPORT/PGPASSWORD set: POSTGRES_DB=vidline INGEST_DB_PASSWORD=... GATEWAY_DB_PASSWORD=... \
#       bash scripts/postgres/init-roles.sh
set -euo pipefail

psql -v ON_ERROR_STOP=1 -qX --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-vidline}" \
    -v database="${POSTGRES_DB:-vidline}" \
    -v ingest_password="${INGEST_DB_PASSWORD:?INGEST_DB_PASSWORD is not set}" \
    -v gateway_password="${GATEWAY_DB_PASSWORD:?GATEWAY_DB_PASSWORD is not set}" <<'SQL'
SELECT format('CREATE ROLE %I', name) FROM unnest(ARRAY['vidline_ingest', 'vidline_gateway', 'vidline_key_readers']) AS name
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) \gexec

ALTER ROLE vidline_ingest LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'ingest_password';
ALTER ROLE vidline_gateway LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'gateway_password';
ALTER ROLE vidline_key_readers NOLOGIN;
GRANT vidline_key_readers TO vidline_ingest, vidline_gateway;

REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO vidline_ingest, vidline_gateway;
-- PostgreSQL 15 no longer lets every role create in public; the services' migrations create their tables there.
GRANT USAGE, CREATE ON SCHEMA public TO vidline_ingest, vidline_gateway;
SQL
