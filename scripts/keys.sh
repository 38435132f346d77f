#!/usr/bin/env bash
# API keys: every job endpoint needs `Authorization: Bearer <key>`; a key belongs to a tenant, whose jobs only it sees.
# Keys are `vl_` + 43 base64url characters (32 random bytes). Only their SHA-256 is stored, in table api_keys of
# the database ingest-api migrates (it creates the table when it starts), with the first 10 characters in clear to
# tell keys apart (ApiKey.ShownLength in shared/service-defaults/Tenancy/ApiKey.cs: the same number).
#
#   scripts/keys.sh create TENANT   a new key for TENANT, printed once on stdout (make key TENANT=name)
#   scripts/keys.sh list            every key: tenant, prefix, created, revoked (make keys)
#   scripts/keys.sh revoke PREFIX   revoke the key with this prefix, as list shows it (make revoke-key KEY=prefix);
#                                   the services stop accepting it within Auth:KeyCacheSeconds (default 30 s)
#   scripts/keys.sh dev-key         the development key of tenant "dev" in $VIDLINE_STATE/api-key (mode 600),
#                                   created once and kept while it is valid (make run / make up)
#
# psql talks to the PostgreSQL of scripts/infra.sh (127.0.0.1:$PG_PORT as postgres/$PG_PASSWORD), database
# $PG_DATABASE (default vidline, as in the services' ConnectionStrings:Postgres).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_DATABASE="${PG_DATABASE:-vidline}"
DEV_TENANT=dev
DEV_KEY_FILE="$VIDLINE_STATE/api-key"
SHOWN_LENGTH=10

sql() { PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$PG_DATABASE" -v ON_ERROR_STOP=1 -qtAX "$@"; }

require_table() {
    local exists
    exists=$(sql -c "SELECT to_regclass('public.api_keys') IS NOT NULL" 2>/dev/null) ||
        die "cannot reach database $PG_DATABASE at 127.0.0.1:$PG_PORT: run 'make up' first"
    [[ $exists == t ]] || die "table api_keys does not exist yet in database $PG_DATABASE: run 'make up' first (ingest-api creates it when it starts)"
}

new_key() { printf 'vl_%s' "$(random_base64url)"; }

key_hash() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# create_key TENANT: stores a new key's hash and prints the key (the only time it is shown).
create_key() {
    local tenant=$1 key
    key=$(new_key)
    # The key itself never reaches psql (nor its command line): only its hash and prefix do.
    sql -v tenant="$tenant" -v hash="$(key_hash "$key")" -v prefix="${key:0:SHOWN_LENGTH}" >/dev/null <<'SQL'
INSERT INTO api_keys (tenant, key_hash, key_prefix) VALUES (:'tenant', decode(:'hash', 'hex'), :'prefix');
SQL
    printf '%s\n' "$key"
}

cmd_create() {
    local tenant=${1:-}
    [[ $tenant =~ ^[a-z0-9][a-z0-9_-]{0,62}$ ]] ||
        die "a tenant name is 1 to 63 of a-z 0-9 _ - starting with a letter or digit (got '${tenant}'): make key TENANT=name"
    # Jobs from before API keys belong to "anonymous": a key for that name would open all of them.
    [[ $tenant != anonymous ]] || die "'anonymous' is reserved: jobs submitted before API keys belong to it"
    require_table
    local key
    key=$(create_key "$tenant")
    log "key ${key:0:SHOWN_LENGTH}… created for tenant $tenant; it is shown once (only its hash is stored):"
    printf '%s\n' "$key"
}

cmd_list() {
    require_table
    {
        printf 'TENANT\tPREFIX\tCREATED\tREVOKED\n'
        sql -F $'\t' -c "SELECT tenant, key_prefix, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"'),
                                COALESCE(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"'), '-')
                         FROM api_keys ORDER BY tenant, created_at"
    } | column -t -s $'\t'
}

cmd_revoke() {
    local prefix=${1:-} matches tenant
    [[ $prefix =~ ^vl_[A-Za-z0-9_-]{$((SHOWN_LENGTH - 3))}$ ]] ||
        die "give the key's prefix as 'make keys' lists it (vl_ and $((SHOWN_LENGTH - 3)) characters), got '${prefix}'"
    require_table
    matches=$(sql -v prefix="$prefix" <<'SQL'
SELECT count(*) FROM api_keys WHERE key_prefix = :'prefix' AND revoked_at IS NULL;
SQL
)
    [[ $matches != 0 ]] || die "no active key has the prefix $prefix (see 'make keys')"
    [[ $matches == 1 ]] || die "$matches active keys share the prefix $prefix; revoke them in SQL by id"
    tenant=$(sql -v prefix="$prefix" <<'SQL'
UPDATE api_keys SET revoked_at = now() WHERE key_prefix = :'prefix' AND revoked_at IS NULL RETURNING tenant;
SQL
)
    log "revoked key $prefix of tenant $tenant (the services refuse it within Auth:KeyCacheSeconds)"
}

# The development key: kept across runs while it is valid, so a page or a shell that holds it keeps working.
cmd_dev_key() {
    require_table
    local key=
    [[ -s $DEV_KEY_FILE ]] && key=$(<"$DEV_KEY_FILE")
    if [[ -z $key ]] || [[ $(sql -v hash="$(key_hash "$key")" <<'SQL'
SELECT count(*) FROM api_keys WHERE key_hash = decode(:'hash', 'hex') AND revoked_at IS NULL;
SQL
) != 1 ]]; then
        key=$(create_key "$DEV_TENANT")
        (umask 077 && printf '%s\n' "$key" >"$DEV_KEY_FILE")
        log "created the development key of tenant $DEV_TENANT in $DEV_KEY_FILE"
    fi
    chmod 600 "$DEV_KEY_FILE"
    printf '%s\n' "$key"
}

case "${1:-}" in
    create) cmd_create "${2:-}" ;;
    list) cmd_list ;;
    revoke) cmd_revoke "${2:-}" ;;
    dev-key) cmd_dev_key ;;
    *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
