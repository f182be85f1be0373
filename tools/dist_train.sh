#!/usr/bin/env bash
# Train on NUM_GPUS processes of this machine through torchrun (PyTorch DDP
# under MMEngine's runner); GPUs use NCCL, a CPU-only machine gloo.
#   usage: tools/dist_train.sh CONFIG NUM_GPUS [tools/train.py arguments]
# Several machines: run it on each one with the same NNODES, MASTER_ADDR (the
# address of the machine with NODE_RANK=0) and MASTER_PORT, and NODE_RANK
# 0..NNODES-1. PORT is accepted for MASTER_PORT (mmdet's name); PYTHON picks
# the interpreter.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG NUM_GPUS [tools/train.py arguments]" >&2
  exit 2
fi
config=$1 gpus=$2; shift 2
here=$(cd -P "$(dirname "$0")" && pwd)  # -P: the real folder, not a link
export PYTHONPATH="$(dirname "$here")${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python}" -m torch.distributed.run \
  --nnodes="${NNODES:-1}" --node-rank="${NODE_RANK:-0}" \
  --master-addr="${MASTER_ADDR:-127.0.0.1}" \
  --master-port="${MASTER_PORT:-${PORT:-29500}}" \
  --nproc-per-node="$gpus" \
  "$here/train.py" "$config" --launcher pytorch "$@"
