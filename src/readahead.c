/*
 * readahead — the next blocks of a sequential read, fetched in the
 * background (src/readahead_int.h is the manual).
 */
#include "src/readahead_int.h"

#include <pthread.h>
#include <stdlib.h>

#include "common/log.h"
#include "src/atrium.h"
#include "common/banned.h"

struct ra_job {
	struct ra_stream *s;
	uint64_t index;
	struct ra_job *next;
};

struct readahead {
	struct bcache *bc;
	int window;
	pthread_mutex_t lock;   /* guards everything below and every stream's jobs */
	pthread_cond_t work;    /* a job queued, or stopping */
	pthread_cond_t done;    /* a job finished */
	struct ra_job *head, *tail;
	int queued, stopping;
	uint64_t issued;
	pthread_t workers[RA_WORKERS];
	int nworkers;
};

static size_t block_len(const struct ra_stream *s, uint64_t index)
{
	uint64_t from = index * s->block_size;
	return (size_t)(s->size - from < s->block_size ? s->size - from : s->block_size);
}

static void *worker(void *arg)
{
	struct readahead *ra = arg;
	pthread_mutex_lock(&ra->lock);
	for (;;) {
		while (!ra->head && !ra->stopping)
			pthread_cond_wait(&ra->work, &ra->lock);
		if (!ra->head)
			break; /* stopping, nothing left */
		struct ra_job *j = ra->head;
		if (!(ra->head = j->next))
			ra->tail = NULL;
		ra->queued--;
		pthread_mutex_unlock(&ra->lock);
		struct ra_stream *s = j->s;
		/* Its reader waits in readahead_stop for this job: s stays. */
		bcache_prefetch(ra->bc, s->ino, s->version, j->index, block_len(s, j->index),
				s->fill, s->arg);
		free(j);
		pthread_mutex_lock(&ra->lock);
		if (--s->jobs == 0)
			pthread_cond_broadcast(&ra->done);
	}
	pthread_mutex_unlock(&ra->lock);
	return NULL;
}

int readahead_new(struct bcache *bc, int window, struct readahead **out)
{
	struct readahead *ra = calloc(1, sizeof(*ra));
	if (!ra)
		return ATR_E_NOMEM;
	ra->bc = bc;
	ra->window = window > 0 ? window : 0;
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->work, NULL);
	pthread_cond_init(&ra->done, NULL);
	for (int i = 0; ra->window && i < RA_WORKERS; i++) {
		if (pthread_create(&ra->workers[i], NULL, worker, ra)) {
			LOG(LOG_ERROR, "readahead: cannot start a worker");
			readahead_free(ra);
			return ATR_E_NOMEM;
		}
		pthread_setname_np(ra->workers[i], "atr-readahead");
		ra->nworkers++;
	}
	*out = ra;
	return ATR_OK;
}

void readahead_free(struct readahead *ra)
{
	if (!ra)
		return;
	pthread_mutex_lock(&ra->lock);
	ra->stopping = 1;
	pthread_cond_broadcast(&ra->work);
	pthread_mutex_unlock(&ra->lock);
	for (int i = 0; i < ra->nworkers; i++)
		pthread_join(ra->workers[i], NULL);
	pthread_cond_destroy(&ra->work);
	pthread_cond_destroy(&ra->done);
	pthread_mutex_destroy(&ra->lock);
	free(ra);
}

void readahead_stream_init(struct readahead *ra, struct ra_stream *s, int on, uint64_t ino,
			   uint64_t version, uint64_t size, size_t block_size,
			   bcache_fill_fn fill, void *arg)
{
	s->on = on && ra && ra->window > 0 && block_size;
	s->ino = ino, s->version = version, s->size = size;
	s->until = size;
	s->block_size = block_size;
	s->fill = fill, s->arg = arg;
	s->last = UINT64_MAX;
	s->end = 0;
	s->jobs = 0;
}

void readahead_until(struct ra_stream *s, uint64_t end)
{
	s->until = end < s->size ? end : s->size;
}

void readahead_note(struct readahead *ra, struct ra_stream *s, uint64_t index)
{
	if (!s->on || index == s->last)
		return; /* another piece of the same block */
	int sequential = index == s->last + 1; /* UINT64_MAX + 1: block 0 */
	s->last = index;
	if (!sequential) {
		s->end = index + 1; /* a seek: nothing ahead of it asked for yet */
		return;
	}
	uint64_t nblocks = (s->until + s->block_size - 1) / s->block_size;
	if (index + 1 >= nblocks)
		return; /* the last block wanted */
	uint64_t to = index + (uint64_t)ra->window; /* inclusive */
	if (to >= nblocks)
		to = nblocks - 1;
	uint64_t i = s->end > index + 1 ? s->end : index + 1;
	pthread_mutex_lock(&ra->lock);
	for (; i <= to && ra->queued < RA_QUEUE_MAX && !ra->stopping; i++) {
		struct ra_job *j = malloc(sizeof(*j));
		if (!j)
			break;
		j->s = s, j->index = i, j->next = NULL;
		if (ra->tail)
			ra->tail->next = j;
		else
			ra->head = j;
		ra->tail = j;
		ra->queued++;
		ra->issued++;
		s->jobs++;
		pthread_cond_signal(&ra->work);
	}
	pthread_mutex_unlock(&ra->lock);
	s->end = i; /* what did not fit is asked for at the next block */
}

void readahead_stop(struct readahead *ra, struct ra_stream *s)
{
	if (!s->on)
		return;
	pthread_mutex_lock(&ra->lock);
	struct ra_job **pp = &ra->head, *prev = NULL;
	while (*pp) {
		struct ra_job *j = *pp;
		if (j->s != s) {
			prev = j;
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		if (ra->tail == j)
			ra->tail = prev;
		ra->queued--;
		s->jobs--;
		free(j);
	}
	while (s->jobs > 0)
		pthread_cond_wait(&ra->done, &ra->lock);
	pthread_mutex_unlock(&ra->lock);
	s->on = 0;
}

uint64_t readahead_issued(struct readahead *ra)
{
	if (!ra)
		return 0;
	pthread_mutex_lock(&ra->lock);
	uint64_t n = ra->issued;
	pthread_mutex_unlock(&ra->lock);
	return n;
}
