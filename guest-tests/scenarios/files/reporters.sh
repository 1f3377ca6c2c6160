#!/bin/sh
# reporters.sh start N FILE DIR WAIT_MS: fork N processes (distinct pids, so fanotify's
# fanotify_should_merge() cannot fold their error events into one another's) that each stat FILE
# once and then write DIR/<i>.done holding /proc/uptime. After WAIT_MS it prints how many finished,
# the state/wchan/stack of each one that did not, and every task of the system in D state (on 7.x
# the report is sent from fs/fserror.c's worker, a kworker, not from the erroring task); the
# number that did not finish goes to DIR/pending, for a read-file step to judge.
# reporters.sh check DIR N: prints how many finished and exits 1 unless all N did.
set -u
cmd=$1
show_d_tasks() {
  for s in /proc/[0-9]*/stat; do
    p=${s#/proc/}; p=${p%/stat}
    read -r line < "$s" 2>/dev/null || continue
    st=${line##*) }; st=${st%% *}
    [ "$st" = D ] || continue
    echo "D-task pid=$p comm=$(cat /proc/$p/comm 2>/dev/null) wchan=$(cat /proc/$p/wchan 2>/dev/null)"
    sed 's/^/  stack /' /proc/$p/stack 2>/dev/null | head -12
  done
}
if [ "$cmd" = start ]; then
  n=$2 file=$3 dir=$4 wait_ms=$5
  mkdir -p "$dir"
  read -r t0 _ < /proc/uptime
  echo "$t0" > "$dir/start"
  i=1
  while [ "$i" -le "$n" ]; do
    ( test -e "$file"; read -r t _ < /proc/uptime; echo "$t $$" > "$dir/$i.done" ) </dev/null >/dev/null 2>&1 &
    echo "$!" > "$dir/$i.pid"
    i=$((i + 1))
  done
  usleep $((wait_ms * 1000))
  done_n=0
  i=1
  while [ "$i" -le "$n" ]; do
    if [ -e "$dir/$i.done" ]; then done_n=$((done_n + 1)); else
      p=$(cat "$dir/$i.pid")
      st=$(sed 's/.*) //' /proc/$p/stat 2>/dev/null | cut -d' ' -f1)
      echo "pending reporter=$i pid=$p state=$st wchan=$(cat /proc/$p/wchan 2>/dev/null)"
      sed 's/^/  stack /' /proc/$p/stack 2>/dev/null | head -12
    fi
    i=$((i + 1))
  done
  echo "finished=$done_n of $n after ${wait_ms}ms"
  echo $((n - done_n)) > "$dir/pending"
  show_d_tasks
  exit 0
fi
if [ "$cmd" = check ]; then
  dir=$2 n=$3
  read -r t0 < "$dir/start"
  done_n=0 last=$t0
  for f in "$dir"/*.done; do
    [ -e "$f" ] || continue
    done_n=$((done_n + 1))
    read -r t _ < "$f"
    last=$(echo "$t $last" | awk '{ print ($1 > $2) ? $1 : $2 }')
  done
  echo "finished=$done_n of $n; last finished $(echo "$last $t0" | awk '{ printf "%d", ($1 - $2) * 1000 }') ms after start"
  show_d_tasks
  [ "$done_n" -eq "$n" ]
  exit $?
fi
echo "usage: reporters.sh start N FILE DIR WAIT_MS | check DIR N" >&2
exit 2
