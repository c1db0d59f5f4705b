#!/usr/bin/env bash
# Usage: ./tools/dist_test.sh CONFIG CHECKPOINT GPUS [tools/test.py options]
# e.g. ./tools/dist_test.sh CONFIG CKPT 8 --eval mIoU mF1
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Killing the script (TERM, INT, HUP) stops the test processes.
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
. "$(dirname "$0")/dist_launch.sh"

for f in "$CONFIG" "$CHECKPOINT"; do
    [ -f "$f" ] || fail "file not found: $f"
done
check_launch_settings "$GPUS"
"$PYTHON" "$TOOLS_DIR/test.py" "$CONFIG" "$CHECKPOINT" --check-only "${@:4}" ||
    exit $?

# Without --tmpdir the ranks pass their results through .dist_test/ in the
# working directory (shared by all nodes), which mmcv leaves behind. On one
# node they use a private folder instead, removed however the script ends.
TMPDIR_ARGS=()
if [[ " ${*:4} " != *" --tmpdir"[=\ ]* ]]; then
    if [ "$NNODES" = 1 ]; then
        RESULTS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dist_test.XXXXXX") ||
            fail "cannot create a temporary folder in ${TMPDIR:-/tmp}"
        trap 'rm -rf "$RESULTS_DIR"' EXIT
        TMPDIR_ARGS=(--tmpdir "$RESULTS_DIR")
    elif [ ! -e .dist_test ]; then
        trap 'rmdir .dist_test 2>/dev/null' EXIT
    fi
fi
launch_workers "$TOOLS_DIR/test.py" "$CONFIG" "$CHECKPOINT" \
    --launcher pytorch "${TMPDIR_ARGS[@]}" "${@:4}"
