#!/bin/sh
# failslab-arm.sh FUNCTION TIMES [reclaim]: make the next TIMES slab allocations made with FUNCTION
# on the stack fail (Documentation/fault-injection/fault-injection.rst: failslab, require-start and
# require-end bound a return address in the call chain, stacktrace-depth how deep to look).
# By default failslab skips allocations that may reclaim (ignore-gfp-wait Y, mm/failslab.c
# should_failslab()); "reclaim" fails those too, as real memory pressure can: mempool_alloc()'s
# second try (GFP_NOFS, after the reserve ran dry, mm/mempool.c) then fails as well.
# FUNCTION's text range is [its address, the next symbol's) in the sorted /proc/kallsyms.
set -e
fn=$1
times=${2:-1}
reclaim=${3:-}
[ -d /sys/kernel/debug/failslab ] || mount -t debugfs none /sys/kernel/debug
cd /sys/kernel/debug/failslab
set -- $(sort /proc/kallsyms | awk -v fn="$fn" 'f { print "0x" $1; exit } $3 == fn { print "0x" $1; f = 1 }')
if [ $# -ne 2 ] || [ "$1" = 0x0000000000000000 ]; then
  echo "failslab-arm: no address for $fn in /proc/kallsyms" >&2
  exit 1
fi
echo "$1" > require-start
echo "$2" > require-end
echo 32 > stacktrace-depth
echo 0 > space
echo 1 > interval
echo 100 > probability
echo 1 > verbose
if [ "$reclaim" = reclaim ]; then echo N > ignore-gfp-wait; else echo Y > ignore-gfp-wait; fi
echo "$times" > times
echo "failslab armed: $times failure(s) under $fn [$1, $2), ignore-gfp-wait $(cat ignore-gfp-wait)"
