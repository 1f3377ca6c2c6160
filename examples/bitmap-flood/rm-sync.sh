#!/bin/sh
rm -f "$1/big"
sync
