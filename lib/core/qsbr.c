/* QSBR epochs: sequentially consistent so "announce, then load" orders against "swap, then
 * advance": a reader that announced the new epoch cannot have loaded the old pointer. */
#include "core/qsbr.h"

#include <stdlib.h>

#include "core/err.h"

int steer_qsbr_init(struct steer_qsbr *q, size_t n)
{
	q->n = n;
	atomic_init(&q->epoch, 1);
	q->slots = calloc(n != 0 ? n : 1, sizeof(*q->slots));
	if (q->slots == NULL)
		return STEER_ENOMEM;
	for (size_t i = 0; i < n; i++)
		atomic_init(&q->slots[i].seen, STEER_QSBR_OFFLINE);
	return 0;
}

void steer_qsbr_fini(struct steer_qsbr *q)
{
	if (q == NULL)
		return;
	free(q->slots);
	q->slots = NULL;
	q->n = 0;
}

uint64_t steer_qsbr_retire(struct steer_qsbr *q)
{
	return atomic_fetch_add(&q->epoch, 1) + 1;
}

bool steer_qsbr_is_safe(struct steer_qsbr *q, uint64_t epoch)
{
	for (size_t i = 0; i < q->n; i++) {
		uint64_t seen = atomic_load(&q->slots[i].seen);

		if (seen != STEER_QSBR_OFFLINE && seen < epoch)
			return false;
	}
	return true;
}
