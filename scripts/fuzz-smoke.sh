#!/usr/bin/env bash
# Runs every native fuzz target briefly (default 10s each): parsers of
# untrusted input must not panic or hang on what the fuzzer finds quickly.
# A real finding ("Failing input written to ...") fails the run. The fuzz
# engine can also give up with "context deadline exceeded" when gathering
# its baseline takes longer than the budget on a loaded machine: the
# baseline runs every input the target's cached corpus has collected
# ($GOCACHE/fuzz), which grows with every run on the same machine. Such a
# run found nothing and is repeated once with twice the time, from the
# seed corpus alone (the target's cached corpus is removed; findings live
# in testdata/fuzz and stay).
set -uo pipefail
cd "$(dirname "$0")/.."
t=${1:-10s}
secs=${t%s}
status=0
fuzzcache="$(go env GOCACHE)/fuzz"
# The modules under third_party/ (forks used through a replace) too: go test
# fuzzes only packages of the module it runs in, so each from its own root.
for mod in . $(dirname $(ls third_party/*/go.mod 2>/dev/null) 2>/dev/null); do
  for pkg in $(cd "$mod" && go list ./...); do
    dir=$(cd "$mod" && go list -f '{{.Dir}}' "$pkg")
    for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //' | sort -u); do
      echo "-- $pkg $f"
      for budget in "$secs" "$((secs * 2))"; do
        out=$(cd "$mod" && go test -run '^$' -fuzz "^$f\$" -fuzztime "${budget}s" -fuzzminimizetime 5s "$pkg" 2>&1)
        rc=$?
        echo "$out" | grep -v '^fuzz: elapsed'
        if [ $rc -eq 0 ]; then break; fi
        if [ "$budget" != "$secs" ] || echo "$out" | grep -q 'Failing input written' || ! echo "$out" | grep -q 'context deadline exceeded'; then
          status=1
          break
        fi
        echo "   (no finding; the engine ran out of time, retrying once from the seed corpus)"
        rm -rf "$fuzzcache/$pkg/$f"
      done
    done
  done
done
exit $status
