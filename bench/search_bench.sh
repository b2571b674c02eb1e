#!/usr/bin/env bash
# The console's search and lists on a large ledger: imports N debtors (default 100000, SQLite),
# gives each a conversation and every tenth an open promise due today, starts `cobrador serve`
# and times K requests (default 200) of each kind through the collector API with curl.
# Then the period's report, with each agent's figures. Prints p50/p99 latency in milliseconds.
# Usage: bench/search_bench.sh [BINARY] [N] [K]
set -euo pipefail
binary=${1:-build-release/cobrador}
n=${2:-100000}
k=${3:-200}
dir=$(mktemp -d /tmp/cobrador-search-bench-XXXXXX)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
db="$dir/ledger.db"
today=2026-11-23

python3 - "$n" > "$dir/portfolio.csv" <<'EOF'
import sys
n = int(sys.argv[1])
first = ["María", "José", "Guadalupe", "Juan", "Sofía", "Ricardo", "Ana", "Luis", "Fernanda", "Ángel"]
last = ["López", "Hernández", "Ramírez", "Pérez", "Martínez", "Ortiz", "Núñez", "García", "Díaz", "Vera"]
print("account_id,debtor_name,phone,birth_date,balance,currency,due_date")
for i in range(n):
    name = f"{first[i % 10]} {last[(i // 10) % 10]} {last[(i // 100) % 10]}"
    print(f"A-{i:07d},{name},+5255{i:08d},1985-03-15,1000.00,MXN,2026-10-01")
EOF
"$binary" migrate --db "$db" > /dev/null
"$binary" import portfolio --db "$db" "$dir/portfolio.csv" > /dev/null 2>&1
sqlite3 "$db" <<EOF
INSERT INTO conversations (debtor_id, phone, channel, state, last_activity_at, created_at)
  SELECT id, phone, 'whatsapp', CASE WHEN id % 50 = 0 THEN 'escalated' ELSE 'bot' END,
         '2026-11-2' || (id % 3) || 'T10:00:00Z', '2026-11-20T10:00:00Z' FROM debtors;
INSERT INTO promises (account_id, conversation_id, amount_cents, currency, due_date, status,
                      created_at)
  SELECT a.id, c.id, 10000, 'MXN', '$today', 'open', '2026-11-20T10:00:00Z'
  FROM accounts a JOIN conversations c ON c.debtor_id = a.debtor_id WHERE a.id % 10 = 0;
EOF
token=$("$binary" agent add --db "$db" --name Bench --role supervisor | tail -1)
port=$((20000 + RANDOM % 20000))
COBRADOR_DB="$db" COBRADOR_LISTEN="127.0.0.1:$port" COBRADOR_TODAY="$today" \
  "$binary" serve > "$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break
  sleep 0.1
done

# Times K GETs of each query; prints p50 and p99 in ms, and how many conversations came back.
measure() {
  local label=$1 query=$2
  local times
  times=$(for _ in $(seq "$k"); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" \
      "http://127.0.0.1:$port/api/v1/conversations?$query"
  done | sort -n)
  local found
  found=$(curl -s -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/conversations?$query" | python3 -c \
    'import json,sys; print(len(json.load(sys.stdin)["conversations"]))')
  printf '%-34s p50 %7.1f ms   p99 %7.1f ms   (%s listed, at most 100)\n' "$label" \
    "$(echo "$times" | awk -v n="$k" 'NR == int(n * 0.5) + 1 {print $1 * 1000}')" \
    "$(echo "$times" | awk -v n="$k" 'NR == int(n * 0.99) + 1 {print $1 * 1000}')" "$found"
}
echo "$n debtors and conversations, $((n / 10)) promises due today; $k requests each"
measure "queue (escalated)" "state=escalated"
measure "search a name: maria lopez" "q=maria%20lopez"
measure "search a rare name: angel vera vera" "q=angel%20vera%20vera"
measure "search a phone: 5500012345" "q=5500012345"
measure "search an account: A-0054321" "q=A-0054321"
measure "search nothing matches: zzz" "q=zzz"
measure "promises due today" "promise_due=today"

# The report with each person's figures: every promise recorded by the bench's agent, half of
# them kept, and the period's report (what the supervisor's "Reportes" view asks for).
sqlite3 "$db" <<EOF2
INSERT INTO audit_log (at, actor, kind, channel, debtor_id, account_id, conversation_id, detail)
  SELECT p.created_at, 'agent:1', 'promise_made', 'whatsapp', c.debtor_id, p.account_id,
         p.conversation_id, '{}'
  FROM promises p JOIN conversations c ON c.id = p.conversation_id;
UPDATE promises SET status = 'kept', resolved_at = '2026-11-22T10:00:00Z' WHERE id % 2 = 0;
EOF2
report_times=$(for _ in $(seq "$k"); do
  curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/reports?from=2026-11-01&to=2026-11-30"
done | sort -n)
kept=$(curl -s -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/api/v1/reports?from=2026-11-01&to=2026-11-30" | python3 -c \
  'import json,sys; print(json.load(sys.stdin)["agents"][0]["promises_kept"])')
printf '%-34s p50 %7.1f ms   p99 %7.1f ms   (%s promises kept by the agent)\n' \
  "report with each agent's figures" \
  "$(echo "$report_times" | awk -v n="$k" 'NR == int(n * 0.5) + 1 {print $1 * 1000}')" \
  "$(echo "$report_times" | awk -v n="$k" 'NR == int(n * 0.99) + 1 {print $1 * 1000}')" "$kept"
