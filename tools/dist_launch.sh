# Sourced by dist_train.sh and dist_test.sh (not a command): the launch
# settings, their checks, and a torchrun launch that ends with the script.
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
TOOLS_DIR=$(dirname "$0")
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
export PYTHONPATH="$TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}"

fail() {
    echo "$(basename "$0"): error: $*" >&2
    exit 1
}

# torchrun of the active environment, else of the repository's .venv/; the
# start-up checks run with the python installed next to it.
TORCHRUN=${TORCHRUN:-torchrun}
if ! command -v "$TORCHRUN" >/dev/null 2>&1; then
    TORCHRUN="$TOOLS_DIR/../.venv/bin/torchrun"
fi
command -v "$TORCHRUN" >/dev/null 2>&1 ||
    fail "torchrun not found: activate the environment or run make install"
PYTHON="$(dirname "$(command -v "$TORCHRUN")")/python"
[ -x "$PYTHON" ] || PYTHON=python

is_count() {
    case "$1" in '' | *[!0-9]* | 0*) return 1 ;; esac
}

# Arguments: the number of processes per node.
check_launch_settings() {
    is_count "$1" ||
        fail "GPUS must be a positive number of processes per node, got '$1'"
    is_count "$PORT" && [ "$PORT" -le 65535 ] ||
        fail "PORT must be a TCP port number (1-65535), got '$PORT'"
    # The first node serves the rendezvous on PORT; torchrun would report a
    # busy port only after its timeout, with a traceback per process.
    if [ "$NODE_RANK" = 0 ] &&
        (exec 3<>"/dev/tcp/$MASTER_ADDR/$PORT") 2>/dev/null; then
        fail "port $PORT on $MASTER_ADDR is in use (another run?);" \
            "set PORT to a free port, e.g. PORT=$((PORT % 65535 + 1)) $0 ..."
    fi
}

# Runs torchrun on the given script and arguments. torchrun runs in the
# background so that a TERM, INT or HUP sent to this script reaches it and it
# stops its workers: in the foreground, bash would exit on the signal and
# leave them running.
launch_workers() {
    "$TORCHRUN" \
        --nnodes="$NNODES" \
        --node_rank="$NODE_RANK" \
        --master_addr="$MASTER_ADDR" \
        --nproc_per_node="$GPUS" \
        --master_port="$PORT" \
        "$@" &
    TORCHRUN_PID=$!
    trap 'kill -TERM "$TORCHRUN_PID" 2>/dev/null' TERM INT HUP
    wait "$TORCHRUN_PID"
    local status=$?
    # A trapped signal ends the wait early: wait for the workers to stop.
    while kill -0 "$TORCHRUN_PID" 2>/dev/null; do
        wait "$TORCHRUN_PID"
        status=$?
    done
    trap - TERM INT HUP
    return "$status"
}
