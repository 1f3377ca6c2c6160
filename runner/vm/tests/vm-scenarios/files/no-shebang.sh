# No "#!" line: execv() says ENOEXEC and the harness runs it with /bin/sh, as execvp(3) would.
exit 3
