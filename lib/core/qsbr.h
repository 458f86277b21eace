/*
 * Quiescent-state-based reclamation for pointers the answer path reads without locks.
 * Each reader thread has a slot: it announces the current epoch before it loads the
 * shared pointer (steer_qsbr_enter) and goes offline after its batch (steer_qsbr_leave).
 * A writer swaps the pointer, then calls steer_qsbr_retire() to get the epoch at which
 * the old object may be freed once steer_qsbr_is_safe() says so.
 */
#ifndef STEER_CORE_QSBR_H
#define STEER_CORE_QSBR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STEER_QSBR_OFFLINE UINT64_MAX

/* One cache line per reader so readers never share a written line. */
struct steer_qsbr_slot {
	_Atomic uint64_t seen;
	char pad[64 - sizeof(uint64_t)];
};

struct steer_qsbr {
	_Atomic uint64_t epoch;
	size_t n;
	struct steer_qsbr_slot *slots;
};

/** Initialise @p q for @p n readers, all offline. @return 0 or STEER_ENOMEM. */
int steer_qsbr_init(struct steer_qsbr *q, size_t n);

/** Release the slots (NULL-safe). */
void steer_qsbr_fini(struct steer_qsbr *q);

/** Reader @p slot is about to load shared pointers. Context: answer path; no syscall. */
static inline void steer_qsbr_enter(struct steer_qsbr *q, size_t slot)
{
	atomic_store(&q->slots[slot].seen, atomic_load(&q->epoch));
}

/** Reader @p slot holds no shared pointer any more. */
static inline void steer_qsbr_leave(struct steer_qsbr *q, size_t slot)
{
	atomic_store_explicit(&q->slots[slot].seen, STEER_QSBR_OFFLINE, memory_order_release);
}

/** After swapping a pointer: @return the epoch from which the old object is unreachable. */
uint64_t steer_qsbr_retire(struct steer_qsbr *q);

/** May an object retired at @p epoch be freed now (no reader can still hold it)? */
bool steer_qsbr_is_safe(struct steer_qsbr *q, uint64_t epoch);

#endif
