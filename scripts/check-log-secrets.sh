#!/usr/bin/env bash
# After a test run with TEST_LOG_FILE and TEST_SECRETS_FILE set: fail if any secret the tests
# handled (passwords, tokens, codes, keys) appears anywhere in the servers' captured logs.
set -euo pipefail
LOG=${1:?usage: check-log-secrets.sh LOG_FILE SECRETS_FILE}
SECRETS=${2:?usage: check-log-secrets.sh LOG_FILE SECRETS_FILE}

lines=$(wc -l <"$LOG")
requests=$(grep -c '"request completed"' "$LOG" || true)
if [ "$lines" -lt 1000 ] || [ "$requests" -lt 500 ]; then
  echo "!! the captured log looks empty ($lines lines, $requests requests): the check would prove nothing"
  exit 1
fi
sort -u "$SECRETS" | awk 'length($0) >= 8' >"$SECRETS.unique"
count=$(wc -l <"$SECRETS.unique")
if [ "$count" -lt 50 ]; then
  echo "!! only $count secrets were recorded: the check would prove little"
  exit 1
fi
leaks=0
while IFS= read -r secret; do
  if grep -qF -- "$secret" "$LOG"; then
    echo "!! a secret starting with ${secret:0:4}… appears in the logs:"
    grep -nF -- "$secret" "$LOG" | head -n 3 | cut -c1-300
    leaks=$((leaks + 1))
  fi
done <"$SECRETS.unique"
if [ "$leaks" -gt 0 ]; then
  echo "!! $leaks secrets leaked into the logs"
  exit 1
fi
echo "    no secret among $count found in $lines log lines ($requests requests)"
