# plots.gp — the benchmark plots (gnuplot, PNG) from bench/results/plot/*.dat,
# written by bench/report.py (which runs this file). Output: docs/img/*.png.
# Run from the repository root: gnuplot bench/plots.gp
D = 'bench/results/plot/'
set terminal pngcairo size 900,560 font 'DejaVu Sans,11' noenhanced
set grid
set key inside top left box opaque
set datafile missing 'NaN'
M = 'cot remask revise ar'
col(m) = (m eq 'cot' ? '#1f77b4' : m eq 'remask' ? '#ff7f0e' : m eq 'revise' ? '#2ca02c' : '#d62728')

# ---- rounds vs depth (cot/remask/revise) and ar rounds vs size
set output 'docs/img/rounds_vs_depth.png'
set terminal pngcairo size 1100,480 font 'DejaVu Sans,11' noenhanced
set multiplot layout 1,2 title 'Decoding rounds (every circuit of the parity, adder, random and EPFL sweeps)'
set logscale xy
set xlabel 'circuit depth d'
set ylabel 'rounds R'
set title 'cot, remask, revise: R = d + 1'
plot D.'struct_cot.dat' u 1:4 w p pt 6 ps 1.6 lc rgb col('cot') t 'cot', \
     D.'struct_remask.dat' u 1:4 w p pt 4 ps 1.1 lc rgb col('remask') t 'remask', \
     D.'struct_revise.dat' u 1:4 w p pt 2 ps 0.8 lc rgb col('revise') t 'revise', \
     [1:30000] x + 1 w l dt 2 lc rgb 'gray40' t 'd + 1'
set xlabel 'circuit size N'
set title 'ar: R = N'
plot D.'struct_ar.dat' u 2:4 w p pt 7 ps 0.8 lc rgb col('ar') t 'ar', \
     [5:300000] x w l dt 2 lc rgb 'gray40' t 'N'
unset multiplot

# ---- L vs width (remask, revise) and L vs size (all modes)
set terminal pngcairo size 700,520 font 'DejaVu Sans,11' noenhanced
set output 'docs/img/L_vs_width.png'
set title 'Sequence length L vs width w (remask, revise)'
set xlabel 'circuit width w'
set ylabel 'L (tokens per chain)'
plot D.'struct_remask.dat' u 3:5 w p pt 4 lc rgb col('remask') t 'remask: 2w + 2C', \
     D.'struct_revise.dat' u 3:5 w p pt 2 lc rgb col('revise') t 'revise: w'' + C', \
     [3:30000] 2*x w l dt 2 lc rgb col('remask') t 'L = 2w', \
     [3:30000] x w l dt 3 lc rgb col('revise') t 'L = w'

set output 'docs/img/L_vs_size.png'
set title 'Sequence length L vs size N'
set xlabel 'circuit size N'
set ylabel 'L (tokens per chain)'
plot D.'struct_cot.dat' u 2:5 w p pt 6 ps 1.6 lc rgb col('cot') t 'cot: L = N', \
     D.'struct_ar.dat' u 2:5 w p pt 7 ps 0.6 lc rgb col('ar') t 'ar: L = N', \
     D.'struct_remask.dat' u 2:5 w p pt 4 lc rgb col('remask') t 'remask', \
     D.'struct_revise.dat' u 2:5 w p pt 2 lc rgb col('revise') t 'revise', \
     [5:300000] x w l dt 2 lc rgb 'gray40' t 'N'

# ---- bytes per chain per mode, EPFL circuits
set terminal pngcairo size 1100,520 font 'DejaVu Sans,11' noenhanced
set output 'docs/img/bytes_per_chain.png'
unset logscale x
set logscale y
set title 'Token bytes per chain on the EPFL circuits (= L)'
set xlabel ''
set ylabel 'bytes per chain'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -35 nomirror
set key inside top right
plot D.'epfl_bytes.dat' u 2:xtic(1) lc rgb col('cot') t 'cot', \
     '' u 3 lc rgb col('remask') t 'remask', \
     '' u 4 lc rgb col('revise') t 'revise', \
     '' u 5 lc rgb col('ar') t 'ar'

# ---- gate-evaluations per second, EPFL circuits, one thread
set output 'docs/img/epfl_rate.png'
set title 'Gate-evaluations per second on the EPFL circuits (1 thread; ABC &sim -W 64 single-threaded)'
set ylabel 'gates x samples / s'
set key outside right top
plot D.'epfl_rate.dat' u 2:xtic(1) lc rgb col('cot') t 'DLM cot', \
     '' u 3 lc rgb col('remask') t 'DLM remask', \
     '' u 4 lc rgb col('revise') t 'DLM revise', \
     '' u 5 lc rgb col('ar') t 'DLM ar', \
     '' u 6 lc rgb '#9467bd' t 'direct (bit-sliced)', \
     '' u 7 lc rgb '#333333' t 'ABC &sim'
unset style data
set xtics norotate
set key inside top left box opaque

# ---- throughput vs chains
set terminal pngcairo size 760,520 font 'DejaVu Sans,11' noenhanced
set output 'docs/img/throughput_vs_chains.png'
set logscale xy
set title 'Throughput vs batch size: gen:parity-revise:64'
set xlabel 'chains'
set ylabel 'samples / s'
set key inside bottom right box opaque
plot D.'chains_revise_t1.dat' u 1:2 w lp pt 7 lc rgb col('revise') t 'DLM revise, 1 thread', \
     D.'chains_revise_t2.dat' u 1:2 w lp pt 5 dt 2 lc rgb col('revise') t 'DLM revise, 2 threads', \
     D.'chains_direct_t1.dat' u 1:2 w lp pt 7 lc rgb '#9467bd' t 'direct, 1 thread', \
     D.'chains_direct_t2.dat' u 1:2 w lp pt 5 dt 2 lc rgb '#9467bd' t 'direct, 2 threads'

# ---- parity: samples/s vs N, per construction and mode
set terminal pngcairo size 1200,430 font 'DejaVu Sans,10' noenhanced
set output 'docs/img/parity_rate.png'
set multiplot layout 1,3 title 'Parity: samples/s vs N (1 thread)'
set xlabel 'N'
set ylabel 'samples / s'
set key inside top right box opaque
do for [c in 'tree chain revise'] {
    set title 'parity-'.c
    plot for [m in M] D.'parity_'.c.'_'.m.'.dat' u 1:2 w lp pt 7 ps 0.7 lc rgb col(m) t m
}
unset multiplot
