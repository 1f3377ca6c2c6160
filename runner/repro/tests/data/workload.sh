#!/bin/sh
# Shell workload for vm_repro_script_workload (tests/vm_repro_test.sh): metadata and data I/O on
# the dying disk ($1 = its mountpoint). Every command may fail; the marker line shows it ran.
echo "repro-workload-ran"
ls -l "$1/data/many" > /dev/null 2>&1
cat "$1/data/f1" "$1/data/f2" > /dev/null 2>&1
for i in 1 2 3; do echo x > "$1/data/new$i" 2>/dev/null; sync; done
exit 0
