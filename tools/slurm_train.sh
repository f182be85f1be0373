#!/usr/bin/env bash
# Train on a Slurm cluster: srun starts one task per GPU (GPUS in all,
# GPUS_PER_NODE on each node); each task reads its rank from Slurm
# (--launcher slurm) and the first node's address becomes MASTER_ADDR.
#   usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#          tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py arguments]
# MASTER_PORT (default 29500) must be free on the first node; PYTHON picks
# the interpreter.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py arguments]" >&2
  exit 2
fi
partition=$1 job_name=$2 config=$3 work_dir=$4; shift 4
gpus=${GPUS:-8}
gpus_per_node=${GPUS_PER_NODE:-$(( gpus < 8 ? gpus : 8 ))}
here=$(cd -P "$(dirname "$0")" && pwd)  # -P: the real folder, not a link
export PYTHONPATH="$(dirname "$here")${PYTHONPATH:+:$PYTHONPATH}"
# shellcheck disable=SC2086  # SRUN_ARGS holds several words on purpose
exec srun -p "$partition" --job-name="$job_name" \
  --gres="gpu:$gpus_per_node" --ntasks="$gpus" \
  --ntasks-per-node="$gpus_per_node" --cpus-per-task="${CPUS_PER_TASK:-5}" \
  --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
  "${PYTHON:-python}" -u "$here/train.py" "$config" --work-dir="$work_dir" \
  --launcher slurm "$@"
