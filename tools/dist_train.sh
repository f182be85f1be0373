#!/usr/bin/env bash
# Train on NUM_GPUS processes of this machine through torchrun (PyTorch DDP
# under MMEngine's runner); GPUs use NCCL, a CPU-only machine gloo.
#   usage: tools/dist_train.sh CONFIG NUM_GPUS [tools/train.py arguments]
# Several machines: run it on each one with the same NNODES, MASTER_ADDR (the
# address of the machine with NODE_RANK=0) and MASTER_PORT, and NODE_RANK
# 0..NNODES-1 (see tools/torchrun.sh).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG NUM_GPUS [tools/train.py arguments]" >&2
  exit 2
fi
config=$1 gpus=$2; shift 2
here=$(cd -P "$(dirname "$0")" && pwd)
exec "$here/torchrun.sh" "$gpus" "$here/train.py" "$config" "$@"
