#!/usr/bin/env bash
# The issue's benchmark: train the default MLP on scikit-learn's bundled digits and time it.
# Expect >= 97% test accuracy in well under 60 s on a 2-core machine.
#   examples/train_digits.sh [OUTPUT_DIR]
set -euo pipefail
out="${1:-.}"
mkdir -p "$out"
start=$(date +%s.%N)
chainrule train --dataset digits --save "$out/digits.safetensors" --plot "$out/digits.png" --force
end=$(date +%s.%N)
echo "wall time (including imports): $(echo "$end - $start" | bc) s"
