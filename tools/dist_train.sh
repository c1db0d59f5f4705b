#!/usr/bin/env bash
# Usage: ./tools/dist_train.sh CONFIG GPUS [tools/train.py options]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without CUDA the processes train on CPU over gloo. Killing the script
# (TERM, INT, HUP) stops the training processes.
CONFIG=$1
GPUS=$2
. "$(dirname "$0")/dist_launch.sh"

[ -f "$CONFIG" ] || fail "config file not found: $CONFIG"
check_launch_settings "$GPUS"
# One process checks the config, options and data first, so bad input gives
# one error line rather than a failure report from every rank.
WORLD_SIZE=$((GPUS * NNODES)) \
    "$PYTHON" "$TOOLS_DIR/train.py" "$CONFIG" --check-only "${@:3}" || exit $?
launch_workers "$TOOLS_DIR/train.py" "$CONFIG" --launcher pytorch "${@:3}"
