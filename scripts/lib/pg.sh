# Shared by scripts/backup and scripts/restore: connection URLs and the tenant registry.
# shellcheck shell=bash

# The URL of database $2 on the server of URL $1 (same credentials and query parameters).
pg_url_for() {
  local url="$1" name="$2" base query
  base="${url%%\?*}"
  query="${url#"$base"}"
  printf '%s/%s%s' "${base%/*}" "$name" "$query"
}

# The database name in URL $1.
pg_db_of() {
  local base="${1%%\?*}"
  printf '%s' "${base##*/}"
}

# Reads the managed tenant databases registered in a master dump (custom format): one "database role" per line.
# Taken from the dump itself, so that the tenants backed up or restored are exactly those the master knows.
registry_from_dump() {
  pg_restore --data-only --table=tenant_databases -f - "$1" | awk '
    /^COPY (public\.)?tenant_databases / {
      inside = 1
      header = $0
      sub(/^[^(]*\(/, "", header); sub(/\).*$/, "", header)
      n = split(header, cols, /, */)
      for (i = 1; i <= n; i++) { col[cols[i]] = i }
      next
    }
    inside && /^\\\.$/ { inside = 0; next }
    inside {
      split($0, f, "\t")
      if (f[col["kind"]] == "managed") print f[col["database"]], f[col["username"]]
    }'
}

# sha256 of a file, hex.
checksum() {
  sha256sum "$1" | cut -d' ' -f1
}
