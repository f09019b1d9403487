#!/usr/bin/env bash
# deploy/posestream@.service through `systemd-analyze verify`, as the instance posestream@8081, with
# ExecStart pointed at the built binary (verify checks that the program exists). Exit 77 (skip) only
# when systemd-analyze is absent; scripts/setup installs systemd, so CI's fresh root has it.
set -euo pipefail
unit=$1 binary=$2
if ! command -v systemd-analyze >/dev/null; then
  echo "deploy_systemd_unit: SKIP: systemd-analyze not found (Debian: apt-get install systemd; scripts/setup installs it)"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/local/bin/posestream|$binary|" "$unit" > "$dir/posestream@.service"
# verify prints problems with the unit (and, on some hosts, with unrelated units it loads); ours name it.
output=$(systemd-analyze verify "$dir/posestream@8081.service" 2>&1) || { echo "$output"; exit 1; }
if grep -q "posestream@" <<<"$output"; then
  echo "$output"
  exit 1
fi
echo "deploy_systemd_unit: systemd-analyze verify: posestream@8081.service is clean"
