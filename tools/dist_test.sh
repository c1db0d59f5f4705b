#!/usr/bin/env bash
# Usage: ./tools/dist_test.sh CONFIG CHECKPOINT GPUS [tools/test.py options]
# e.g. ./tools/dist_test.sh CONFIG CKPT 8 --eval mIoU mF1
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

for f in "$CONFIG" "$CHECKPOINT"; do
    if [ ! -f "$f" ]; then
        echo "dist_test.sh: error: file not found: $f" >&2
        exit 1
    fi
done

# torchrun of the active environment, else of the repository's .venv/.
TORCHRUN=${TORCHRUN:-torchrun}
if ! command -v "$TORCHRUN" >/dev/null 2>&1; then
    TORCHRUN="$(dirname "$0")/../.venv/bin/torchrun"
fi

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
"$TORCHRUN" \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    "$(dirname "$0")/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch ${@:4}
