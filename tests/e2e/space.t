#!/bin/bash
# A full disk, end to end over ssh: the account's backup root is a small
# tmpfs. A push that cannot fit fails with exit 14 and changes no earlier
# snapshot; after space is freed by hand the rerun resumes and completes;
# with min_free set, a push first deletes the oldest snapshots that may go;
# when even that cannot make room, the push is refused with exit 14 and a
# message saying what is needed and what was freed. A quota works the same.
. "$(dirname "$0")/lib.sh"

command -v mountpoint >/dev/null || skip_all "needs mountpoint (util-linux)"

new_account s
ACC=$ACCOUNT
HOME_=$(home_of "$ACC")
mount -t tmpfs -o size=48m,mode=0700 tmpfs "$HOME_" || fatal "mount tmpfs on $HOME_"
at_cleanup "umount -l $HOME_"
chown "$ACC:$ACC" "$HOME_"

CONF="$SCRATCH/server.conf"
: >"$CONF"
chmod 644 "$CONF"
HS_SERVE_ARGS="--config $CONF"
start_sshd forcecommand "$ACC"
SSHC=$(ssh_conf "$ACC")
SRC="$SCRATCH/src"

push() { "$HS_CLIENT" backup --repo server: --ssh "ssh -F $SSHC" "$SRC"; }
log_has() { grep -q -- "$1" "$HOME_/.hindsight/log" || { echo "log lacks '$1':"; cat "$HOME_/.hindsight/log"; return 1; }; }
free_kib() { df -k --output=avail "$HOME_" | tail -n 1 | tr -d ' '; }

# ------------------------------------------------------------ ENOSPC midway

mkdir -p "$SRC/small" "$SRC/big"
for i in 1 2 3 4; do random_file "$SRC/small/f$i" 256; done
assert "a first push of 1 MiB exits 0" succeeds push
S1=$(snapshots "$HOME_")
tree_state "$HOME_/$S1" >"$SCRATCH/state1"

# leave about 12 MiB free, then push 20 MiB
FILLER="$HOME_/filler"
head -c $(( ($(free_kib) - 12 * 1024) * 1024 )) /dev/zero >"$FILLER" || fatal "filler"
for i in $(seq -w 1 20); do random_file "$SRC/big/b$i" 1024; done
assert "a push that cannot fit exits 14 (out of space)" must_fail 14 push
assert "... and says it ran out of space, in one line" last_err_has "out of space"
assert "it published nothing" is_eq "$(snapshots "$HOME_")" "$S1"
assert "the earlier snapshot is unchanged" same_tree_state "$SCRATCH/state1" "$HOME_/$S1"
assert "current still names it" is_eq "$(readlink "$HOME_/current")" "$S1"
assert "the server logged the push as not completed, out of space" log_has "out of space"
assert "what arrived waits in inprogress for the next push" \
	bash -c "[ \$(find '$HOME_/inprogress' -type f | wc -l) -gt 4 ]"

rm -f "$FILLER"
assert "after space is freed by hand, the rerun exits 0" succeeds push
S2=$(snapshots "$HOME_" | tail -n 1)
assert "it published a second snapshot" is_eq "$(snapshots "$HOME_" | wc -l)" 2
assert "the second snapshot resumed from the interrupted push" \
	jq -e '.resumed == 1 and .status == "complete"' "$HOME_/.hindsight/snapshots/$S2.json"
assert "the second snapshot equals the source" \
	same_as_source "$SRC" "$HOME_/$S2$SRC" --numeric-ids -M--fake-super
assert "the first snapshot is still unchanged" same_tree_state "$SCRATCH/state1" "$HOME_/$S1"
assert "unchanged files link to the first snapshot" \
	same_inode "$HOME_/$S1$SRC/small/f1" "$HOME_/$S2$SRC/small/f1"

# ------------------------------------------------------------ min_free prunes first

# S2 holds 20 MiB of its own; S3 gets 8 MiB of new data instead
rm -rf "$SRC/big"
mkdir -p "$SRC/mid"
for i in $(seq -w 1 8); do random_file "$SRC/mid/m$i" 1024; done
assert "a third push exits 0" succeeds push
S3=$(snapshots "$HOME_" | tail -n 1)
# ask for 10 MiB more than is free: only deleting S2's 20 MiB gets there
WANT=$(( $(free_kib) + 10 * 1024 ))
printf '[server]\nmin_free = %dK\n' "$WANT" >"$CONF"
echo more >>"$SRC/small/f1"
assert "with min_free above the free space, a push exits 0" succeeds push
S4=$(snapshots "$HOME_" | tail -n 1)
assert "it deleted the two oldest snapshots, kept the newest, and published" \
	is_eq "$(snapshots "$HOME_" | tr '\n' ' ')" "$S3 $S4 "
assert "the log says the oldest went to free space" log_has "pruned $S1 to free space"
assert "... then the next oldest" log_has "pruned $S2 to free space"
assert "the trash is empty" is_eq "$(ls -A "$HOME_/.hindsight/trash")" ""
assert "the new snapshot still links to the one before" \
	same_inode "$HOME_/$S3$SRC/mid/m1" "$HOME_/$S4$SRC/mid/m1"
assert "the new snapshot equals the source" \
	same_as_source "$SRC" "$HOME_/$S4$SRC" --numeric-ids -M--fake-super

# ------------------------------------------------------------ min_free out of reach

printf '[server]\nmin_free = 100%%\n' >"$CONF"
echo again >>"$SRC/small/f1"
assert "when no deletion can reach min_free, the push exits 14" must_fail 14 push
assert "... saying what is free and what min_free needs" last_err_has "MiB free, min_free needs 48.0 MiB .100%."
assert "... what was deleted (S3, the only one that could go), and exactly what that freed (the one file only it held)" \
	last_err_has "deleting 1 oldest snapshot .$S3..$S3. freed 256.0 KiB;"
assert "... and that nothing else may be deleted" last_err_has "nothing else may be deleted"
assert "the newest snapshot is kept" is_eq "$(snapshots "$HOME_")" "$S4"
assert "no inprogress tree was made" absent "$HOME_/inprogress"

# ------------------------------------------------------------ a quota

printf '[server]\nmin_free = 0\n[account %s]\nquota = 4M\n' "$ACC" >"$CONF"
assert "over its quota, with nothing that may go, a push exits 14" must_fail 14 push
assert "... naming the quota" last_err_has "over the quota of 4.0 MiB"
printf '[server]\nmin_free = 0\n[account %s]\nquota = 1G\n' "$ACC" >"$CONF"
assert "under its quota the push exits 0" succeeds push

# ------------------------------------------------------------ a broken config

printf '[server]\nmin_free = lots\n' >"$CONF"
tree_state "$HOME_" >"$SCRATCH/state5"
assert "a broken server.conf refuses the push with exit 1" must_fail 1 push
assert "... naming the file and line" last_err_has "$CONF:2: min_free"
assert "... and nothing in the root changed" same_tree_state "$SCRATCH/state5" "$HOME_"

umount "$HOME_" || umount -l "$HOME_"
done_testing
