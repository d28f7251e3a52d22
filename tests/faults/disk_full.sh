#!/usr/bin/env bash
# A full disk while a checkpoint is written: a clear error naming the file and the reason, no partial file left, and
# the previous checkpoint intact: the run continues from it elsewhere to the uninterrupted run's very result.
# The disk is a small tmpfs when this user may mount one (root), else a file-size limit (ulimit -f), under which a
# write fails with EFBIG instead of ENOSPC: the same failed write for the code under test.
# Usage: MTINET=build/mtinet tests/faults/disk_full.sh
source "$(dirname "$0")/common.sh"

first=$(printf 'step_%08d' 4)
second=$(printf 'step_%08d' 8)
checkpoint_bytes=$(($(stat -c %s "$work/reference/$(printf 'step_%08d' "$final_step").weights.safetensors") +
                    $(stat -c %s "$work/reference/$(printf 'step_%08d' "$final_step").state.safetensors")))

dir="$work/small_disk"
mkdir -p "$dir"
# Unmount before removing, however the script ends (set before mounting: a kill in between must not leave a mount).
trap 'umount "$dir" 2>/dev/null; rm -rf "$work"' EXIT
if mount -t tmpfs -o size=$((checkpoint_bytes * 3 / 2)) tmpfs "$dir" 2>/dev/null; then
  how="a tmpfs of $((checkpoint_bytes * 3 / 2)) bytes"
  reason="No space left on device"
  train "$dir" --set max_steps=4 || fail "the first epoch failed: $(tail -n 3 "$dir.log")"
  limit_run() { train "$dir" --resume latest; }
else
  how="ulimit -f of half a weights file"
  reason="File too large"
  train "$dir" --set max_steps=4 || fail "the first epoch failed: $(tail -n 3 "$dir.log")"
  blocks=$(($(stat -c %s "$dir/$first.weights.safetensors") / 2048))
  # SIGXFSZ ignored, so the write fails with EFBIG instead of killing the process.
  limit_run() { (trap '' XFSZ; ulimit -f "$blocks"; train "$dir" --resume latest); }
fi
[ -f "$dir/$first.state.safetensors" ] || fail "no checkpoint after the first epoch"
before=$(md5sum "$dir/$first".*)

status=0
limit_run || status=$?
[ "$status" -ne 0 ] || fail "the run with a full disk ($how) exited 0"
grep -Eq "writing '$dir/$second\.(weights|state)\.safetensors\.tmp' failed \(disk full\?\): $reason" "$dir.log" ||
  fail "no clear error for the full disk ($how): $(tail -n 3 "$dir.log")"
if ls "$dir/$second".* >/dev/null 2>&1; then fail "files of the failed checkpoint were left: $(ls "$dir/$second".*)"; fi
[ "$(md5sum "$dir/$first".*)" = "$before" ] || fail "the previous checkpoint changed"

# The previous checkpoint continues elsewhere to the reference result.
cp -r "$dir" "$work/moved"
cp "$dir.log" "$work/moved.log"
train "$work/moved" --resume latest || fail "resuming the saved checkpoint failed: $(tail -n 3 "$work/moved.log")"
same_as_reference "$work/moved"
echo "ok: full disk ($how) reported as '$reason', previous checkpoint intact and resumed to the reference result"
