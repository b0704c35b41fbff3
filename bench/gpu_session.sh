#!/bin/bash
# One GPU session's checks, each bounded: bf16 CUDA runs (a growth step, StyleGAN2) and their resumes,
# then the throughput benchmarks. Results land in $OUT (JSON + logs).
#   OUT=/tmp/gpu bash bench/gpu_session.sh [progressive|stylegan2]     (default: both)
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 PGSTUDIO_CACHE=/tmp/pgcache
OUT=${OUT:-/tmp/gpu}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt" 2>&1
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" >> "$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"

part=${1:-all}
bench() {  # name, timeout, args...
  local name=$1 limit=$2; shift 2
  echo "== $name"
  timeout "$limit" python3 bench/train_speed.py --device cuda "$@" > "$OUT/$name.json" 2> "$OUT/$name.err"
  echo "rc $?"; python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print({k: v for k, v in d.items() if k != 'resolutions'}); [print(r) for r in d['resolutions']]" "$OUT/$name.json" 2>/dev/null || tail -3 "$OUT/$name.err"
}

if [ "$part" != stylegan2 ]; then
echo "== bf16 growth + resume"
{ time timeout 150 python3 -m pgstudio train --demo --out /tmp/run --resolution 16 --preset laptop \
      --phase-kimg 2 --max-kimg 5 --device cuda --quiet
  timeout 150 python3 -m pgstudio resume /tmp/run --max-kimg 10 --quiet
  cat /tmp/run/log.txt; ls /tmp/run/checkpoints; } > "$OUT/smoke.txt" 2>&1
tail -5 "$OUT/smoke.txt"

bench paper_wgan 170 --preset paper --resolution 256 --batch 64 --steps 10 --warmup 3
# the fused resampling convs against the two-step form: same networks, alternating rounds
echo "== fused A/B"
timeout 90 python3 bench/fused_ab.py --device cuda --preset paper --resolution 128 --batch 64 --rounds 3 --steps 8 \
      > "$OUT/fused_ab128.json" 2> "$OUT/fused_ab128.err"; cat "$OUT/fused_ab128.json" || tail -3 "$OUT/fused_ab128.err"
# what the per-step watch of Adam's second moments costs on the GPU (no host sync either way)
echo "== state watch A/B"
timeout 60 python3 bench/state_watch_ab.py --device cuda --preset paper --resolution 128 --batch 64 --rounds 3 --steps 8 \
      > "$OUT/state_watch128.json" 2> "$OUT/state_watch128.err"; cat "$OUT/state_watch128.json" || tail -3 "$OUT/state_watch128.err"
bench paper_logistic 120 --preset paper --resolution 256 --batch 64 --loss logistic --steps 16 --warmup 3 --no-split
bench paper_compile 150 --preset paper --resolution 128 --levels 128 --phase stabilize --batch 64 --compile --steps 10 --warmup 2 --no-split
fi

if [ "$part" != progressive ]; then
echo "== StyleGAN2: bf16 top blocks, resume"
{ timeout 70 python3 -m pgstudio train --demo --arch stylegan2 --out /tmp/run_sg2 --resolution 32 --preset laptop \
      --max-kimg 3 --device cuda --quiet
  timeout 60 python3 -m pgstudio resume /tmp/run_sg2 --max-kimg 6 --quiet
  tail -4 /tmp/run_sg2/log.txt; } > "$OUT/smoke_sg2.txt" 2>&1
tail -3 "$OUT/smoke_sg2.txt"
bench sg2_paper 90 --arch stylegan2 --preset paper --resolution 256 --levels 256 --steps 16 --warmup 3 --no-split
bench sg2_paper128 70 --arch stylegan2 --preset paper --resolution 128 --steps 16 --warmup 3 --no-split
# the progressive family on the same card, for a same-machine comparison
bench paper_logistic128 50 --preset paper --resolution 128 --levels 128 --phase stabilize --loss logistic \
      --batch 64 --steps 16 --warmup 3 --no-split
fi
