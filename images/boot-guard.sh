#!/bin/sh
# Boot guard of the sign's A/B slots: runs before every start of the sign
# (ExecStartPre), outside both slots, and needs nothing from them. While a new
# slot is on trial it counts the starts left; when none are left (the slot kept
# crashing before the update agent could judge it) it points "current" back at
# the committed slot, the way a bootloader's boot counter falls back (RAUC,
# U-Boot bootcount). Every write is write-then-rename.
#   boot-guard.sh <install root, e.g. /opt/stopsign> <update state dir>
set -eu
root=$1
state=$2
tries="$state/boot-tries-left"

[ -f "$tries" ] || exit 0
current=$(readlink "$root/current")
committed=$(readlink "$root/committed")
if [ "$current" = "$committed" ]; then
  rm -f "$tries"
  exit 0
fi

left=$(cat "$tries" 2>/dev/null || true)
case "$left" in '' | *[!0-9]*) left=0 ;; esac

if [ "$left" -le 0 ]; then
  ln -sfn "$committed" "$root/current.guard"
  mv -fT "$root/current.guard" "$root/current"
  printf '%s\n' "$current" >"$state/boot-guard-reverted.tmp"
  sync
  mv -f "$state/boot-guard-reverted.tmp" "$state/boot-guard-reverted"
  rm -f "$tries"
  sync
  echo "boot guard: $current did not stay up; back on $committed" >&2
  exit 0
fi

printf '%s\n' $((left - 1)) >"$tries.tmp"
sync
mv -f "$tries.tmp" "$tries"
