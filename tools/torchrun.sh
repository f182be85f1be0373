#!/usr/bin/env bash
# Start NUM_PROCS processes of a Python script on this machine through
# torchrun, as one node of a job of NNODES machines; the script gets
# --launcher pytorch after its arguments. Used by dist_train.sh and
# dist_test.sh.
#   usage: tools/torchrun.sh NUM_PROCS SCRIPT [script arguments]
# Environment: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1, the
# address of the NODE_RANK=0 machine), MASTER_PORT (or mmdet's PORT; 29500),
# PYTHON (the interpreter, python).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 NUM_PROCS SCRIPT [script arguments]" >&2
  exit 2
fi
nproc=$1 script=$2; shift 2
here=$(cd -P "$(dirname "$0")" && pwd)  # -P: the real folder, not a link
export PYTHONPATH="$(dirname "$here")${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python}" -m torch.distributed.run \
  --nnodes="${NNODES:-1}" --node-rank="${NODE_RANK:-0}" \
  --master-addr="${MASTER_ADDR:-127.0.0.1}" \
  --master-port="${MASTER_PORT:-${PORT:-29500}}" \
  --nproc-per-node="$nproc" "$script" "$@" --launcher pytorch
