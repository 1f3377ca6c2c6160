#!/bin/sh
# Prints what an LTP test prints (lib/tst_test.c: "FILE:LINE: TYPE: message" lines, then the
# summary block on stderr) and exits as LTP does (TBROK 2, TCONF only 32), for the case named:
#   ltp-style.sh pass|tbrok|tconf
summary() {
  printf '\nSummary:\npassed   %s\nfailed   0\nbroken   %s\nskipped  %s\nwarnings 0\n' "$1" "$2" "$3" >&2
}
echo "tst_test.c:1709: TINFO: LTP version: 20240129"
echo "tst_test.c:1593: TINFO: Timeout per run is 0h 00m 30s"
case "$1" in
  pass)
    echo "fsfault_ltp.c:40: TPASS: /mnt/d0 is mounted"
    echo "fsfault_ltp.c:52: TPASS: stat /mnt/d0/data succeeded"
    summary 2 0 0
    exit 0 ;;
  tbrok)
    echo "fsfault_ltp.c:40: TPASS: /mnt/d0 is mounted"
    echo "tst_test.c:1134: TBROK: mount(/dev/vdb, /mnt/ltp, ext4, 0, (nil)) failed: ENOENT (2)"
    summary 1 1 0
    exit 2 ;;
  tconf)
    echo "fsfault_ltp.c:31: TCONF: FAN_REPORT_PIDFD not supported in kernel?"
    summary 0 0 1
    exit 32 ;;
esac
echo "ltp-style.sh: unknown case $1" >&2
exit 1
