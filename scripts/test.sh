#!/usr/bin/env bash
# Runs every test the way CI does, after installing what the real-part tests
# need when it is missing: Debian's Postfix, swaks, 7-Zip, bsdtar, Chromium,
# python3-dkim (an independent DKIM verifier), OpenLDAP's slapd, PostgreSQL (tests
# start private clusters of their own) and a
# Japanese font (as root, or through sudo), and the e2e npm packages.
# Then go vet, gofmt, go test -race ./... and the fuzz smoke, and at the end
# the list of skipped tests with their reasons, so a green run that skipped
# Postfix or Chromium says so.
#
# Environment: CI=true turns a missing prerequisite into a failure;
# FUZZTIME (default 8s) is the fuzz smoke budget per target, 0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs="postfix swaks 7zip p7zip-full libarchive-tools chromium fonts-ipafont-gothic python3-dkim slapd postgresql"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  as_root=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root="sudo"; else as_root="none"; fi
  fi
  if [ "$as_root" = none ]; then
    echo "== missing Debian packages:$missing (not root and no sudo: the tests needing them will be skipped)"
  else
    echo "== installing Debian packages:$missing"
    # Postfix is only run by the tests, with their own private configuration.
    echo "postfix postfix/main_mailer_type select No configuration" | $as_root debconf-set-selections
    # slapd too: the directory tests start their own on a loopback port.
    echo "slapd slapd/no_configuration boolean true" | $as_root debconf-set-selections
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
  fi
fi

# Browser tests drive Debian's chromium with playwright-core (no browser download).
if [ -f e2e/package.json ] && command -v npm >/dev/null; then
  if [ ! -d e2e/node_modules/playwright-core ] || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
    echo "== npm ci (e2e)"
    (cd e2e && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

# third_party/go-smtp is a module of its own (a fork used through a replace),
# which ./... does not reach: its package is named explicitly.
forks="github.com/emersion/go-smtp"

echo "== go vet"
go vet ./... $forks
# The gateway is built for Linux first; these keep the other Unix targets
# compiling (their rlimit and syscall types differ).
echo "== build for freebsd, darwin"
for goos in freebsd darwin; do GOOS=$goos go build ./... || exit 1; done
echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi

echo "== go test -race ./..."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/skipreport" ./scripts/skipreport
set +e
go test -race -count=1 -timeout 20m -json ./... $forks | "$work/skipreport" -summary "$work/skipped"
status=${PIPESTATUS[0]}
set -e

if [ "$status" -eq 0 ]; then
  # nfpm lives in its own module so its dependencies stay out of the
  # gateway's; no -race: the packager has no concurrency and its race build
  # alone takes minutes.
  echo "== packaging (packaging/, its own module)"
  (cd packaging && go vet ./... && go test -count=1 -timeout 20m ./...) || status=$?
fi

fuzz=0
fuzztime=${FUZZTIME:-8s}
if [ "$status" -eq 0 ] && [ "$fuzztime" != 0 ]; then
  echo "== fuzz smoke"
  scripts/fuzz-smoke.sh "$fuzztime" || fuzz=$?
fi

# The skipped tests, the verdict, and last the go test counts
# ("tests: N passed, N failed, N skipped"), the line a reader looks for.
head -n -1 "$work/skipped"
verdict="== all green"
if [ "$fuzz" -ne 0 ]; then verdict="== fuzz smoke FAILED"; status=$fuzz; fi
if [ "$status" -ne 0 ] && [ "$fuzz" -eq 0 ]; then verdict="== tests FAILED"; fi
echo "$verdict"
tail -n 1 "$work/skipped"
exit "$status"
