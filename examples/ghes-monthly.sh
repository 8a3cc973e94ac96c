#!/usr/bin/env bash
# Monthly cron job: export license usage from each GHES appliance over its administrative shell
# (SSH port 122), then commit every export to the ledger repository in one `license-sync upload`.
#
#   LEDGER_REPO=acme/license-usage GITHUB_TOKEN=... examples/ghes-monthly.sh ghes-a.corp.example ghes-b.corp.example
#
# crontab (04:00 on the 1st of each month):
#   0 4 1 * *  cd /opt/license-sync && LEDGER_REPO=acme/license-usage examples/ghes-monthly.sh ghes-a.corp.example ghes-b.corp.example >> /var/log/license-usage.log 2>&1
#
# Settings, from the environment:
#   LEDGER_REPO     owner/name of the ledger repository (required)
#   GITHUB_TOKEN    a token with contents: write on that repository only (GH_TOKEN works too)
#   APPLIANCES      the appliances, space-separated, when none are given as arguments
#   LEDGER_API_URL  the ledger's API (default: GITHUB_API_URL, else https://api.github.com)
#   LEDGER_BRANCH   branch to commit to (default: the repository's default branch)
#   WAIT=1          wait for the app's answer (exit 3 when none comes in 5 minutes)
#   SSH_USER (admin), SSH_PORT (122), SSH_OPTIONS ("-o BatchMode=yes -o ConnectTimeout=30")
#   LICENSE_SYNC    the command that runs the CLI (default: bin/license-sync.js of this checkout)
#
# Exit code: 0 every appliance exported and uploaded; 1 an appliance could not be exported (the
# others are uploaded all the same) or the upload failed; 2 a setting is missing; else upload's.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LICENSE_SYNC=${LICENSE_SYNC:-"node $here/../bin/license-sync.js"}
SSH_USER=${SSH_USER:-admin}
SSH_PORT=${SSH_PORT:-122}
SSH_OPTIONS=${SSH_OPTIONS:-"-o BatchMode=yes -o ConnectTimeout=30"}

appliances=("$@")
if [ ${#appliances[@]} -eq 0 ] && [ -n "${APPLIANCES:-}" ]; then
  read -r -a appliances <<< "$APPLIANCES"
fi
if [ ${#appliances[@]} -eq 0 ]; then
  echo "usage: LEDGER_REPO=owner/name $0 APPLIANCE... (or APPLIANCES=\"a b\")" >&2
  exit 2
fi
if [ -z "${LEDGER_REPO:-}" ]; then
  echo "LEDGER_REPO is not set: the ledger repository, owner/name" >&2
  exit 2
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/license-usage.XXXXXX")
trap 'rm -rf "$workdir"' EXIT

# Runs a command in an appliance's administrative shell.
admin_shell() {
  local host=$1
  shift
  # shellcheck disable=SC2086 # SSH_OPTIONS holds several options
  ssh -p "$SSH_PORT" $SSH_OPTIONS "$SSH_USER@$host" -- "$@"
}

failed=0
files=()
for host in "${appliances[@]}"; do
  out="$workdir/${host//[^A-Za-z0-9._-]/_}.json"
  err="$out.err"
  # GHES 3.13 and later: `ghe-license usage`; 3.12 and older: `ghe-license-usage`. Exit 255 is
  # SSH's own failure (unreachable, key refused): no second try then.
  status=0
  admin_shell "$host" ghe-license usage --unencrypted > "$out" 2> "$err" || status=$?
  if [ "$status" -ne 0 ] && [ "$status" -ne 255 ]; then
    status=0
    admin_shell "$host" ghe-license-usage --unencrypted > "$out" 2>> "$err" || status=$?
  fi
  if [ "$status" -eq 0 ] && [ -s "$out" ]; then
    echo "exported $host ($(wc -c < "$out" | tr -d ' ') bytes)"
    files+=("$out")
  else
    echo "could not export $host (exit $status):" >&2
    sed 's/^/  /' "$err" >&2
    failed=1
  fi
done

if [ ${#files[@]} -eq 0 ]; then
  echo "no appliance could be exported; nothing uploaded" >&2
  exit 1
fi

args=(upload --repo "$LEDGER_REPO")
if [ -n "${LEDGER_API_URL:-}" ]; then args+=(--api-url "$LEDGER_API_URL"); fi
if [ -n "${LEDGER_BRANCH:-}" ]; then args+=(--branch "$LEDGER_BRANCH"); fi
if [ "${WAIT:-0}" = 1 ]; then args+=(--wait); fi
# shellcheck disable=SC2086 # LICENSE_SYNC may be a command with arguments
$LICENSE_SYNC "${args[@]}" -- "${files[@]}" || exit $?
exit $failed
