#!/bin/sh
# One whole-job run (`python -m segmentation_pipeline run`) of the checkout $1 on a copy of the
# landing zone $2/raw, into an empty warehouse; for farm-bench's pairs against another checkout:
#   farm-bench -n 5 --warmup 0 --timeout 2400 --vs "sh benchmarks/whole_job.sh BASELINE LAND" \
#       -- sh benchmarks/whole_job.sh . LAND
# LAND: e.g. `python -m segmentation_pipeline generate --customers 20000 --days 365 --out LAND`.
set -e
checkout=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$2/raw" "$work/raw"
mkdir -p "$work/dagster_home"
cd "$checkout"
SEGMENTATION_DATA_DIR="$work" SEGMENTATION_SETTLE_SECONDS=0 SEGMENTATION_AS_OF="${SEGMENTATION_AS_OF:-2026-06-30}" \
    DAGSTER_HOME="$work/dagster_home" .venv/bin/python -m segmentation_pipeline run > "$work/run.log" 2>&1 \
    || { tail -20 "$work/run.log" >&2; exit 1; }
