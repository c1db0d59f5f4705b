#!/usr/bin/env bash
# Usage: ./tools/dist_train.sh CONFIG GPUS [tools/train.py options]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without CUDA the processes train on CPU over gloo.
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

if [ ! -f "$CONFIG" ]; then
    echo "dist_train.sh: error: config file not found: $CONFIG" >&2
    exit 1
fi

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
    "$(dirname "$0")/train.py" \
    "$CONFIG" \
    --launcher pytorch ${@:3}
