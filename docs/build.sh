#!/usr/bin/env bash
# Build the documentation site with warnings as errors and run the gallery.
#
#   bash docs/build.sh                                  # full build
#   SPHINXOPTS="-D plot_gallery=0" bash docs/build.sh   # pages only, no examples
#
# Output: docs/_build/html/index.html. Every public name of the package's
# __init__ files must appear in the API reference (checked first).
set -euo pipefail
cd "$(dirname "$0")/.."

# The examples read the shared real data when it is there, as the benchmarks do.
if [[ -z "${SKLEARN_MTL_DATA:-}" && -d ../shared/data ]]; then
    export SKLEARN_MTL_DATA="$(cd ../shared/data && pwd)"
fi
# Headless plots; one BLAS thread per process keeps example timings honest on
# a shared 2-core machine.
export MPLBACKEND=Agg
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

python docs/check_api_coverage.py

# A fresh build: stale autosummary pages or gallery outputs would hide warnings.
rm -rf docs/_build docs/generated docs/auto_examples docs/sg_execution_times.rst
start=$(date +%s)
# shellcheck disable=SC2086
python -m sphinx -W --keep-going -b html ${SPHINXOPTS:-} docs docs/_build/html
# sphinx-gallery printed each example's run time above ("Computation times").
echo "docs built in $(( $(date +%s) - start )) s: docs/_build/html/index.html"
