#!/usr/bin/env bash
# `npm test` after `hardhat build`: lint, the circuits' artifact check, the Solidity tests, the TypeScript tests and
# the gas snapshot check, with the TypeScript tests in two mocha processes at once.
#
# The files that mostly WAIT on other processes (a `hardhat node`, daemons, `npx hardhat` commands, block times,
# a browser: test/e2e/, the README walkthrough, the simulation report's browser test) run in a second `hardhat test
# mocha` process, started first and running while this shell runs the CPU-bound steps one after another (lint, zk
# check, Solidity tests, the other mocha files, the gas check). The two groups share no port (every test that
# listens takes a free one), no data folder (each takes a temporary one) and no chain (the second group's tests start
# their own chains; the first group's use the in-process network of their own process).
#
# Every step runs even when one before it fails, so one run shows every failure; the waiting group's output is
# printed whole when it ends (it is written to a file meanwhile, named below), then a summary of the steps. The
# script fails when any step fails.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HARDHAT=node_modules/.bin/hardhat
# test/sim/report-browser.test.ts waits on Chromium (and, on a machine without it, on apt-get installing it).
WAITING=(test/docs/readme.test.ts test/sim/report-browser.test.ts)
# test/e2e/, less the keeper under load, which runs alone once both groups are done. It could run alongside them (its
# provider-choice test once failed there: it waited for the cheap provider's first offer, not the data offer its
# workflow needs, and a catalog refresh between the node's two listings sent the step elsewhere; it now waits for the
# data offer), but it does not pay: its 200 executions keep a hardhat node, a keeper and three providers busy, CPU the
# two groups need on 2 cores. Inside the waiting group both groups took ~794 s; alone after them, 675 s + ~50 s.
ALONE=(test/e2e/keeper-load.test.ts)
for file in test/e2e/*.test.ts; do
  [[ " ${ALONE[*]} " == *" $file "* ]] || WAITING+=("$file")
done
# Every other file of test/ that `hardhat test mocha` would load (it loads every .js and .ts file under test/).
OTHERS=()
while IFS= read -r file; do OTHERS+=("$file"); done < <(
  find test -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.js' -o -name '*.mjs' -o -name '*.cjs' \) |
    LC_ALL=C sort | grep -vxF -f <(printf '%s\n' "${WAITING[@]}" "${ALONE[@]}")
)

waiting_log=$(mktemp "${TMPDIR:-/tmp}/aitbc-test-waiting.XXXXXX")
echo "test/run.sh: ${#WAITING[@]} waiting-bound files in a second mocha process (output: $waiting_log, printed at the end)"
started=$SECONDS
"$HARDHAT" test mocha --no-compile "${WAITING[@]}" >"$waiting_log" 2>&1 &
waiting_pid=$!
trap 'kill "$waiting_pid" 2>/dev/null; exit 143' TERM

status=0
summary=()
step() { # a name, then the command
  local name=$1 from=$SECONDS
  shift
  echo
  echo "=== $name"
  if "$@"; then
    summary+=("ok      $name ($((SECONDS - from)) s)")
  else
    summary+=("FAILED  $name ($((SECONDS - from)) s)")
    status=1
  fi
}

step "lint" npm run lint
step "zk:check" npm run zk:check
step "Solidity tests" "$HARDHAT" test solidity
step "mocha: ${#OTHERS[@]} files" "$HARDHAT" test mocha --no-compile "${OTHERS[@]}"
step "bench:check" npm run bench:check

echo
echo "=== mocha: the waiting-bound files (${WAITING[*]})"
if wait "$waiting_pid"; then
  summary+=("ok      mocha: ${#WAITING[@]} waiting-bound files ($((SECONDS - started)) s, concurrently)")
else
  summary+=("FAILED  mocha: ${#WAITING[@]} waiting-bound files ($((SECONDS - started)) s, concurrently)")
  status=1
fi
cat "$waiting_log"
rm -f "$waiting_log"

step "mocha: ${ALONE[*]}, alone" "$HARDHAT" test mocha --no-compile "${ALONE[@]}"

echo
echo "=== test/run.sh: $((SECONDS - started)) s"
printf '%s\n' "${summary[@]}"
exit "$status"
