# shellcheck shell=bash
# jobs/slurm/common.sh — shared body of run.sbatch, train.sbatch and score.sbatch.
# Sourced, not executed. Provides hpcad_job <subcommand> <n-leading-file-args> "$@".
#
# Environment:
#   HPCAD_BIN             hpcad binary (default: `hpcad` on PATH, else build/hpcad under
#                         the submit dir, else build/hpcad in this repository)
#   HPCAD_FORWARD_SIGNAL  signal forwarded to the job step when the batch shell gets
#                         SIGUSR1 from `#SBATCH --signal=B:USR1@...` (default USR1)
#   HPCAD_SRUN_ARGS       extra srun options, whitespace-separated (e.g. "--cpu-bind=cores")

HPCAD_JOB_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

hpcad_log() { printf 'hpcad-job: %s\n' "$*" >&2; }

hpcad_usage_error() { # message
  hpcad_log "error: $1"
  hpcad_log "usage: sbatch [sbatch options] ${HPCAD_JOB_USAGE}"
  exit 2
}

hpcad_require_file() { # what path
  [[ -n ${2:-} ]] || hpcad_usage_error "missing $1 argument"
  [[ -f $2 && -r $2 ]] || hpcad_usage_error "$1 '$2' is not a readable file (relative paths resolve against $(pwd))"
}

hpcad_find_bin() {
  local c
  if [[ -n ${HPCAD_BIN:-} ]]; then
    [[ -x $HPCAD_BIN && ! -d $HPCAD_BIN ]] || { hpcad_log "error: HPCAD_BIN='$HPCAD_BIN' is not an executable file"; exit 2; }
    printf '%s\n' "$HPCAD_BIN"
    return
  fi
  if c=$(command -v hpcad 2>/dev/null); then printf '%s\n' "$c"; return; fi
  for c in "${SLURM_SUBMIT_DIR:-$PWD}/build/hpcad" "$HPCAD_JOB_REPO/build/hpcad"; do
    if [[ -x $c ]]; then printf '%s\n' "$c"; return; fi
  done
  hpcad_log "error: no hpcad binary: set HPCAD_BIN, put hpcad on PATH, or build it" \
    "(cmake -S . -B build && cmake --build build) in ${SLURM_SUBMIT_DIR:-$PWD} or $HPCAD_JOB_REPO"
  exit 2
}

# Run `srun --mpi=pmix <bin> <subcommand> <args...>` in the background and wait for it, so
# the batch shell can react to signals: bash runs a trap only between commands, never while
# a foreground child runs. USR1 (sent by Slurm before the time limit, or by
# `scancel --batch --signal=USR1`) is forwarded to srun, which relays it to every task.
hpcad__forward() { # received-signal signal-to-send
  hpcad_log "batch shell got SIG$1; forwarding SIG$2 to job step (srun pid $HPCAD_SRUN_PID)"
  kill -s "$2" "$HPCAD_SRUN_PID" 2>/dev/null || true
}

hpcad_srun() { # subcommand args...
  local bin rc
  bin=$(hpcad_find_bin) || exit $?
  # shellcheck disable=SC2206  # intentional word splitting of user-provided srun options
  local cmd=(srun --mpi=pmix ${HPCAD_SRUN_ARGS:-} "$bin" "$@")
  hpcad_log "job ${SLURM_JOB_ID:-none} ntasks=${SLURM_NTASKS:-?} nodes=${SLURM_JOB_NUM_NODES:-?} bin=$bin"
  hpcad_log "${cmd[*]}"
  HPCAD_SRUN_PID=
  trap 'hpcad__forward USR1 "${HPCAD_FORWARD_SIGNAL:-USR1}"' USR1
  trap 'hpcad__forward TERM TERM' TERM
  "${cmd[@]}" &
  HPCAD_SRUN_PID=$!
  # `wait` returns early (status > 128) when a trapped signal arrives: keep waiting until
  # srun is gone, then collect its real exit status.
  while kill -0 "$HPCAD_SRUN_PID" 2>/dev/null; do wait "$HPCAD_SRUN_PID" || true; done
  rc=0
  wait "$HPCAD_SRUN_PID" || rc=$?
  trap - USR1 TERM
  if ((rc == 0)); then hpcad_log "hpcad $1 finished"; else hpcad_log "hpcad $1 failed with exit status $rc"; fi
  return "$rc"
}
