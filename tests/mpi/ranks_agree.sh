#!/usr/bin/env bash
# After 4 steps on 2 ranks every rank holds rank 0's parameters and BatchNorm buffers bit for bit (issue 13, item 4).
set -euo pipefail
source "$(dirname "$0")/common.sh"
for dtype in f32 f64; do
  "${mpi[@]}" -np 2 "$RANKS_AGREE" "$config" checkpoint.dir="$work/agree_$dtype" dtype=$dtype >"$work/agree_$dtype.log" 2>&1 ||
    fail "$dtype: $(grep -E 'rank|error' "$work/agree_$dtype.log" | tail -n 5)"
  grep "differ from rank 0" "$work/agree_$dtype.log"
done
echo "PASS"
