/*
 * Sorted range lists (include/mm/memmap.h).
 *
 * Both updates work the same way: find the run r[i .. j] of ranges the new
 * range interacts with, work out what replaces that run (at most one range
 * for an add, at most two for a remove), check there is room, and only then
 * change the array. So an error never leaves a half-done update behind.
 */
#include <mm/memmap.h>
#include <vireo/errno.h>

void memmap_init(struct memmap *m)
{
	m->n = 0;
}

/*
 * Replace r[i .. i+old-1] by the `new` ranges in repl[], moving the tail.
 * The caller has checked that n - old + new <= MEMMAP_MAX.
 */
static void memmap_splice(struct memmap *m, unsigned i, unsigned old,
			  const struct mem_range *repl, unsigned new)
{
	unsigned tail = m->n - (i + old);

	/* Move the tail in the direction that never overwrites unread entries. */
	if (new > old) {
		for (unsigned k = tail; k-- > 0;)
			m->r[i + new + k] = m->r[i + old + k];
	} else if (new < old) {
		for (unsigned k = 0; k < tail; k++)
			m->r[i + new + k] = m->r[i + old + k];
	}
	for (unsigned k = 0; k < new; k++)
		m->r[i + k] = repl[k];
	m->n = m->n - old + new;
}

/* Index of the first range whose end is >= addr (n when there is none). */
static unsigned memmap_first_ending_at_or_after(const struct memmap *m, uint64_t addr)
{
	unsigned lo = 0, hi = m->n;

	/* The ends are strictly increasing, so binary search applies. */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (m->r[mid].end < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int memmap_add(struct memmap *m, uint64_t start, uint64_t end)
{
	if (start > end)
		return -VIREO_EINVAL;
	if (start == end)
		return 0;

	/*
	 * r[i .. j-1] are the ranges that overlap or touch [start, end): the
	 * first one ending at or after start, up to the last one starting at
	 * or before end. All of them merge into one.
	 */
	unsigned i = memmap_first_ending_at_or_after(m, start);
	unsigned j = i;
	while (j < m->n && m->r[j].start <= end)
		j++;

	struct mem_range merged = { start, end };
	if (j > i) {
		if (m->r[i].start < merged.start)
			merged.start = m->r[i].start;
		if (m->r[j - 1].end > merged.end)
			merged.end = m->r[j - 1].end;
	} else if (m->n == MEMMAP_MAX) {
		return -VIREO_ENOSPC;
	}
	memmap_splice(m, i, j - i, &merged, 1);
	return 0;
}

int memmap_remove(struct memmap *m, uint64_t start, uint64_t end)
{
	if (start > end)
		return -VIREO_EINVAL;
	if (start == end)
		return 0;

	/*
	 * r[i .. j-1] are the ranges sharing at least one byte with
	 * [start, end). Ranges that only touch it are unaffected, hence the
	 * strict comparisons (the search finds end >= start + 1).
	 */
	unsigned i = memmap_first_ending_at_or_after(m, start + 1);
	unsigned j = i;
	while (j < m->n && m->r[j].start < end)
		j++;
	if (j == i)
		return 0;

	/* What survives: a piece left of start and a piece right of end. */
	struct mem_range keep[2];
	unsigned nkeep = 0;
	if (m->r[i].start < start)
		keep[nkeep++] = (struct mem_range){ m->r[i].start, start };
	if (m->r[j - 1].end > end)
		keep[nkeep++] = (struct mem_range){ end, m->r[j - 1].end };

	if (m->n - (j - i) + nkeep > MEMMAP_MAX)
		return -VIREO_ENOSPC;
	memmap_splice(m, i, j - i, keep, nkeep);
	return 0;
}

int memmap_add_len(struct memmap *m, uint64_t base, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(base, len, &end))
		return -VIREO_EINVAL;
	return memmap_add(m, base, end);
}

int memmap_remove_len(struct memmap *m, uint64_t base, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(base, len, &end))
		return -VIREO_EINVAL;
	return memmap_remove(m, base, end);
}

uint64_t memmap_total(const struct memmap *m)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < m->n; i++)
		total += m->r[i].end - m->r[i].start;
	return total;
}

bool memmap_contains(const struct memmap *m, uint64_t start, uint64_t end)
{
	if (start >= end)
		return start == end;
	/* Ranges never touch, so [start, end) must lie inside a single one. */
	unsigned i = memmap_first_ending_at_or_after(m, end);
	return i < m->n && m->r[i].start <= start;
}
