#include "inotab.h"
#include "util.h"

#include <stdlib.h>

#define INITIAL_CAP 1024

/* splitmix64's finaliser: inode numbers are often dense, the mask is not */
static size_t slot_of(uint64_t ino, size_t cap)
{
	ino ^= ino >> 30;
	ino *= 0xbf58476d1ce4e5b9ULL;
	ino ^= ino >> 27;
	ino *= 0x94d049bb133111ebULL;
	ino ^= ino >> 31;
	return (size_t)ino & (cap - 1);
}

void inotab_free(struct inotab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->n = 0;
}

struct ino_slot *inotab_find(const struct inotab *t, uint64_t ino)
{
	if (!t->cap)
		return NULL;
	for (size_t i = slot_of(ino, t->cap); ; i = (i + 1) & (t->cap - 1)) {
		struct ino_slot *s = &t->slots[i];
		if (!(s->left & INO_USED))
			return NULL;
		if (s->ino == ino)
			return s;
	}
}

static struct ino_slot *place(struct ino_slot *slots, size_t cap, uint64_t ino)
{
	size_t i = slot_of(ino, cap);

	while (slots[i].left & INO_USED)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static void grow(struct inotab *t)
{
	size_t cap = t->cap ? xmul(t->cap, 2) : INITIAL_CAP;
	struct ino_slot *slots = xcalloc(cap, sizeof(*slots));

	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].left & INO_USED)
			*place(slots, cap, t->slots[i].ino) = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
}

struct ino_slot *inotab_add(struct inotab *t, uint64_t ino, uint64_t size,
			    uint64_t blocks, uint64_t nlink, uint32_t unit)
{
	struct ino_slot *s;

	/* keep at most 3/4 full, so a probe ends soon on an empty slot */
	if (xmul(t->n + 1, 4) > xmul(t->cap, 3))
		grow(t);
	s = place(t->slots, t->cap, ino);
	s->ino = ino;
	s->size = size;
	s->blocks = blocks;
	s->unit = unit & INO_MASK;
	/* more links than fit stay "not all seen": never wrongly unique */
	s->left = INO_USED | (uint32_t)(nlink - 1 > INO_MASK ? INO_MASK : nlink - 1);
	t->n++;
	return s;
}

int inotab_seen(struct ino_slot *s, uint32_t unit)
{
	int first = (s->unit & INO_MASK) != unit;

	/* a link made while we walk can make more sightings than links */
	if (s->left & INO_MASK)
		s->left--;
	if (first)
		s->unit = (unit & INO_MASK) | INO_MULTI;
	return first;
}

enum ino_holder inotab_holder(const struct ino_slot *s, uint32_t *unit)
{
	*unit = s->unit & INO_MASK;
	if (s->left & INO_MASK)
		return INO_OUTSIDE;
	return (s->unit & INO_MULTI) ? INO_SHARED : INO_ONE_UNIT;
}
