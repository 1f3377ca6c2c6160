#!/bin/sh
# Shipped into the guest by exec-shipped-file.toml ([[file]]); run there by busybox sh.
# $1: the disk's mountpoint. Prints a computed number (the judge reads it back from "output"),
# leaves a file on the disk and exits 7: all three fail if the file was not shipped or not run.
echo $((6 * 7))
touch "$1/data/made-by-script" || exit 1
exit 7
