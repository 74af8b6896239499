#!/bin/sh
# make demo: back up a sample tree three times to a local backup root, with
# changes in between, then show the snapshots and which files they share.
set -eu

bin=${1:?usage: demo.sh BUILD_DIR}
hs="$bin/hindsight"
demo=$(mktemp -d /tmp/hindsight-demo.XXXXXX)
src="$demo/home/alice"
repo="$demo/backups"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "a sample home directory in $src"
mkdir -p "$src/Documents" "$src/Photos" "$src/.config/app"
printf 'Quarterly report, draft 1\n' > "$src/Documents/report.txt"
printf 'todo: buy milk\n' > "$src/Documents/notes.txt"
head -c 2000000 /dev/urandom > "$src/Photos/holiday.jpg"
printf 'theme=dark\n' > "$src/.config/app/settings.ini"
find "$src" -type f | sort

say "backup 1: hindsight backup $src --repo $repo"
"$hs" backup --repo "$repo" "$src"

sleep 1
say "changes: edit report.txt, delete notes.txt, add todo.txt"
printf 'Quarterly report, final\n' > "$src/Documents/report.txt"
rm "$src/Documents/notes.txt"
printf 'call Bob\n' > "$src/Documents/todo.txt"
"$hs" backup --repo "$repo" "$src"

sleep 1
say "changes: chmod settings.ini to 600"
chmod 600 "$src/.config/app/settings.ini"
"$hs" backup --repo "$repo" "$src"

say "hindsight list --repo $repo"
"$hs" list --repo "$repo"

say "the backup root"
ls -l "$repo"

say "inode and link count of each file in each snapshot (same inode = stored once)"
for f in Photos/holiday.jpg Documents/report.txt Documents/notes.txt .config/app/settings.ini; do
	printf '%s\n' "$f"
	for s in "$repo"/20*; do
		p="$s$src/$f"
		if [ -e "$p" ]; then
			printf '  %s  inode %-10s links %s  mode %s\n' "$(basename "$s")" \
				"$(stat -c %i "$p")" "$(stat -c %h "$p")" "$(stat -c %a "$p")"
		else
			printf '  %s  (absent)\n' "$(basename "$s")"
		fi
	done
done

say "space: three snapshots vs one copy of the source"
du -sh "$src" | sed 's/^/  source:          /'
du -sh "$repo" | sed 's/^/  all snapshots:   /'

say "demo files are in $demo (rm -rf it when done)"
