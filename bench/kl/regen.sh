#!/usr/bin/env bash
# Regenerates the curves and tables of docs/kl.md: docs/img/kl-*.png and, on stdout,
# one Markdown table per law (bench/kl/table.py; paste them into docs/kl.md). Run from
# the repository root after `make` (or set DLMSIM to another build's binary).
# Every command is deterministic (exact curves; path-KL with a fixed seed). About a
# minute on 2 cores.
set -eu
D=${DLMSIM:-build/dlmsim}
E=circuits/epfl
mkdir -p docs/img
one() { # NAME LAW [options...]
    local name=$1; shift
    echo "\$ $D kl $* --plot docs/img/kl-$name.png"
    "$D" kl "$@" --plot "docs/img/kl-$name.png" > /dev/null
    "$D" kl "$@" --json | python3 bench/kl/table.py
    echo
}
one bsc10 bsc:10:0.1
one parity8 parity:8
one ctrl "circuit:$E/random_control/ctrl.aig@0-15"
one sin "circuit:$E/arithmetic/sin.aig@9-24"
one adder8 circuit:gen:adder-prefix:8
one mult5 circuit:gen:mult:5
one bsc1024 bsc:1024:0.1 --schedules uniform-first,uniform-last,cosine,loglinear,binomial,random-sizes \
    --steps 1,2,4,8,16,32,64,128,256,512,1024 --chains 10000
