#!/usr/bin/env bash
# Train several configs at once on one machine (e.g. the small _synthetic
# configs sharing one GPU), same budget, and print each one's PQ.
#   usage: [ITERS=2000] [OUT=dir] tools/train_parallel.sh DATA_ROOT \
#              NAME=CONFIG[@key=value,key=value] ...
# Logs go to $OUT/logs/NAME.log, work dirs to $OUT/NAME. Tiny models are
# bound by Python on the host: keep to ~one job per 3 CPU cores.
set -u
data_root=$1; shift
out=${OUT:-work_dirs/parallel}
iters=${ITERS:-2000}
python=${PYTHON:-python}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
mkdir -p "$out/logs"
[ -d "$data_root" ] || $python tools/make_dataset.py "$data_root" > /dev/null

run() {  # name config [key=value ...]
  local name=$1 cfg=$2 t0; shift 2; t0=$(date +%s)
  $python tools/train.py "$cfg" --data-root "$data_root" \
    --work-dir "$out/$name" --cfg-options train_cfg.max_iters=$iters \
    train_cfg.val_interval=$iters default_hooks.logger.interval=250 "$@" \
    > "$out/logs/$name.log" 2>&1
  echo "$name rc=$? $(( $(date +%s) - t0 ))s" \
    "$(grep -a -o 'coco_panoptic/PQ: .*PQ_st: [0-9.]*' "$out/logs/$name.log" | tail -1)"
}

for spec in "$@"; do
  name=${spec%%=*}; rest=${spec#*=}; cfg=${rest%%@*}; opts=()
  [[ "$rest" == *@* ]] && IFS=',' read -r -a opts <<< "${rest#*@}"
  run "$name" "$cfg" "${opts[@]}" &
done
wait
