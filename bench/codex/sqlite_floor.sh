#!/usr/bin/env bash
# What SQLite alone needs to store an import's records: copies the cost
# records (and api_messages rows, if any) of an imported database into a
# fresh database of the same schema with one INSERT ... SELECT each, in one
# transaction, with the import's settings (WAL, synchronous NORMAL, a 64 MiB
# page cache), under /usr/bin/time. No parsing, no pricing, no per-row
# statement: the B-tree work the writer cannot avoid with this schema.
# Then the same without the secondary indexes of cost_records, to show
# what they cost.
#
#   bench/codex/sqlite_floor.sh [DB] [ROUNDS]   # DB: bench/out/codex-hm-3.db
#
# Needs the sqlite3 command-line shell (Debian: sqlite3).
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=${1:-bench/out/codex-hm-3.db}
ROUNDS=${2:-3}
[ -f "$DB" ] || { echo "sqlite_floor.sh: no database at $DB (run bench/codex/run.sh first)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "sqlite_floor.sh: the sqlite3 shell is required" >&2; exit 2; }
OUT=bench/out/floor
mkdir -p "$OUT"
SRC=$(cd "$(dirname "$DB")" && pwd)/$(basename "$DB")
records=$(sqlite3 "$SRC" "SELECT count(*) FROM cost_records")
secondary=$(sqlite3 "$SRC" "SELECT group_concat(name, ' ') FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cost_records' AND sql IS NOT NULL")

copy() { # LABEL DROP_INDEXES
    local fresh=$OUT/floor.db
    rm -f "$fresh" "$fresh-wal" "$fresh-shm"
    sqlite3 "$fresh" "PRAGMA journal_mode = WAL;" >/dev/null
    sqlite3 "$SRC" ".schema cost_records" ".schema api_messages" | sqlite3 "$fresh"
    if [ "$2" = yes ]; then
        for ix in $secondary; do sqlite3 "$fresh" "DROP INDEX $ix"; done
    fi
    /usr/bin/time -f "%e %U %S" -o "$OUT/time" sqlite3 "$fresh" \
        "PRAGMA cache_size = -65536; PRAGMA synchronous = NORMAL; ATTACH '$SRC' AS s;
         BEGIN;
         INSERT INTO cost_records SELECT * FROM s.cost_records ORDER BY id;
         INSERT INTO api_messages SELECT * FROM s.api_messages;
         COMMIT;"
    read -r wall user sys <"$OUT/time"
    printf '| %s | %s | %s | %s |\n' "$1" "$wall" "$user" "$sys"
}

echo "$records records from $DB; cost_records' secondary indexes: $secondary"
echo
echo "| copy | wall (s) | user CPU (s) | system CPU (s) |"
echo "|---|---|---|---|"
for _ in $(seq "$ROUNDS"); do
    copy "with every index" no
    copy "without the secondary indexes" yes
done
