#!/usr/bin/env bash
# A kernel whose config lacks an option fsfault needs is refused before anything boots, with the
# option named: a "kernel" (any file will do, it is never booted) with a Debian-style config-RELEASE
# beside it that has CONFIG_FANOTIFY unset. Also: `fsfault kernel config` prints the fragments.
#   usage: vm_kernel_config_test.sh FSFAULT_BIN
set -uo pipefail
fsfault=${1:?usage: vm_kernel_config_test.sh FSFAULT_BIN}
tmp=$(mktemp -d /tmp/fsfault-kconfig.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

head -c 65536 /dev/urandom > "$tmp/vmlinuz-6.1.0-test"
"$fsfault" kernel config > "$tmp/config-6.1.0-test" || fail "fsfault kernel config failed"
grep -q '^CONFIG_FANOTIFY=y$' "$tmp/config-6.1.0-test" || fail "the fragment lacks CONFIG_FANOTIFY"
"$fsfault" kernel config --fault-injection | grep -q '^CONFIG_FAILSLAB=y$' || fail "--fault-injection lacks CONFIG_FAILSLAB"
sed -i 's/^CONFIG_FANOTIFY=y$/# CONFIG_FANOTIFY is not set/; s/=m$/=y/' "$tmp/config-6.1.0-test"

out=$("$fsfault" vm-test --kernel "$tmp/vmlinuz-6.1.0-test" --accel tcg --filter ext4/eio-inode-read \
        --out "$tmp/out" --cache "$tmp/cache" 2>&1)
rc=$?
echo "$out"
[[ $rc -eq 2 ]] || fail "exit status $rc, expected 2"
grep -q "kernel config: $tmp/config-6.1.0-test" <<<"$out" || fail "the config's origin is not printed"
grep -q "kernel lacks CONFIG_FANOTIFY (needed by fsfault)" <<<"$out" || fail "CONFIG_FANOTIFY is not named"
[[ ! -e "$tmp/out/ext4/eio-inode-read/console.log" ]] || fail "a guest was booted"
[[ ! -d "$tmp/cache/kernels/initramfs" ]] || fail "an initramfs was built"
echo "PASS"
