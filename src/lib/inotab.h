/*
 * The inode table of `hindsight-server du`: which parts of a backup root
 * ("units": the snapshots, in order, then everything else) hold each inode
 * that has more than one link, so one pass over the root can tell, for
 * every snapshot, the bytes only it holds.
 *
 * The walk visits the units one after the other and never returns to one
 * it has left. So "first link of this inode seen in this unit" is simply
 * "the last unit recorded is not this one", and an inode is held by one
 * unit alone if it never moved to a second one and every link it has
 * (st_nlink when first seen) was seen.
 *
 * Memory: one 32-byte slot per inode with two or more links, in an open
 * addressing table (linear probing) whose size is a power of two, doubled
 * when it would pass 3/4 full: 43 to 86 bytes per such inode, 1.5 times
 * that for a moment while it doubles. Inodes with one link never enter it.
 * Allocation failure aborts (util.h).
 */
#ifndef HS_INOTAB_H
#define HS_INOTAB_H

#include <stddef.h>
#include <stdint.h>

#define INO_MULTI 0x80000000u   /* in unit: seen in more than one unit */
#define INO_USED  0x80000000u   /* in left: the slot holds an inode */
#define INO_MASK  0x7fffffffu

struct ino_slot {
	uint64_t ino;
	uint64_t size;     /* st_size */
	uint64_t blocks;   /* st_blocks (512-byte units) */
	uint32_t unit;     /* the last unit it was seen in, | INO_MULTI */
	uint32_t left;     /* links not seen yet, | INO_USED */
};

struct inotab {
	struct ino_slot *slots;
	size_t cap;        /* a power of two, or 0 before the first add */
	size_t n;          /* slots in use */
};

#define INOTAB_INIT { NULL, 0, 0 }

void inotab_free(struct inotab *t);

/* The slot of ino, or NULL. */
struct ino_slot *inotab_find(const struct inotab *t, uint64_t ino);

/*
 * Record ino, not in the table yet, first seen in unit with nlink links
 * (at least 2). Returns its slot, valid until the next inotab_add().
 */
struct ino_slot *inotab_add(struct inotab *t, uint64_t ino, uint64_t size,
			    uint64_t blocks, uint64_t nlink, uint32_t unit);

/*
 * One more link of s seen, in unit (never a unit the walk has left).
 * Returns 1 if it is the inode's first link in that unit (so the unit's
 * sizes should count it), else 0.
 */
int inotab_seen(struct ino_slot *s, uint32_t unit);

/* How the links of s fell once the walk is over. */
enum ino_holder {
	INO_ONE_UNIT,   /* every link seen, all in one unit: *unit */
	INO_SHARED,     /* every link seen, in two units or more */
	INO_OUTSIDE,    /* some link not seen: it is outside what was walked */
};
enum ino_holder inotab_holder(const struct ino_slot *s, uint32_t *unit);

#endif
