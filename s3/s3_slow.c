/*
 * s3_slow — the slow-body watchdog: cuts off a client that sends its request
 * body too slowly while its worker thread is blocked inside mg_read.
 *
 * Why a thread: civetweb's mg_read returns only once it has all the bytes
 * asked for (its request_timeout_ms bounds the wait for each byte, not the
 * read), so a client trickling a byte a second keeps the read, and the
 * worker thread, for as long as it likes; s3_body.c can check the body's
 * rate bound only between reads. The watchdog checks every body read in
 * flight a few times a second and, past its deadline, shuts the
 * connection's socket down: the read returns at once, the body ends with
 * RequestTimeout and civetweb closes the connection.
 *
 * civetweb does not give handlers the socket, so the watchdog finds it in
 * /proc/self/fd by its two ends (the request's server port and the
 * client's address and port); that only happens for a client being cut off.
 *
 * Thread-safety: the list and every field of an entry on it are guarded by
 * mu. An entry is on the list only between s3_slow_enter and s3_slow_leave,
 * that is while its reader is inside mg_read on that connection: civetweb
 * closes a connection only after the handler returns, which it cannot do
 * before s3_slow_leave takes mu, so while the watchdog holds mu the socket
 * it finds is that connection's and no other.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "s3/s3_int.h"
#include "common/banned.h"

#define SLOW_TICK_NS 200000000L /* how often deadlines are checked */

struct s3_slow {
	pthread_mutex_t mu;
	pthread_cond_t cv;         /* wakes the watchdog to stop */
	struct s3_slow_read *head; /* reads in flight: guarded by mu */
	int stop;                  /* guarded by mu */
	pthread_t tid;
};

uint64_t s3_slow_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int port_of(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return -1;
}

/* Is fd a socket from our port server_port to the client addr:port? */
static int is_conn(int fd, const struct s3_slow_read *rd)
{
	struct sockaddr_storage local, peer;
	socklen_t ll = sizeof(local), pl = sizeof(peer);
	char addr[INET6_ADDRSTRLEN];
	if (getsockname(fd, (struct sockaddr *)&local, &ll) ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl) || port_of(&local) != rd->server_port ||
	    port_of(&peer) != rd->remote_port)
		return 0;
	const void *ip = peer.ss_family == AF_INET
				 ? (const void *)&((struct sockaddr_in *)&peer)->sin_addr
				 : (const void *)&((struct sockaddr_in6 *)&peer)->sin6_addr;
	return inet_ntop(peer.ss_family, ip, addr, sizeof(addr)) && !strcmp(addr, rd->remote_addr);
}

/* Called with mu held (see the top): shut the read's connection down. */
static void cut(struct s3_slow_read *rd)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int done = 0;
	while (d && !done && (de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || fd == dirfd(d) || !is_conn((int)fd, rd))
			continue;
		done = !shutdown((int)fd, SHUT_RDWR);
	}
	if (d)
		closedir(d);
	LOG(LOG_WARN, "s3 %s: request body from %s:%d too slow: %s", rd->id, rd->remote_addr,
	    rd->remote_port, done ? "connection cut" : "its socket was not found");
}

static void *watchdog(void *arg)
{
	struct s3_slow *w = arg;
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += SLOW_TICK_NS;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		uint64_t now = s3_slow_now();
		for (struct s3_slow_read *rd = w->head; rd && !w->stop; rd = rd->next)
			if (!rd->fired && now > rd->deadline_ns) {
				rd->fired = 1;
				cut(rd);
			}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct s3_slow *s3_slow_new(void)
{
	struct s3_slow *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	if (!w)
		return NULL;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->tid, NULL, watchdog, w)) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return NULL;
	}
	return w;
}

void s3_slow_free(struct s3_slow *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->tid, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

void s3_slow_enter(struct s3_slow *w, struct s3_slow_read *rd)
{
	pthread_mutex_lock(&w->mu);
	rd->fired = 0;
	rd->prev = NULL;
	rd->next = w->head;
	if (w->head)
		w->head->prev = rd;
	w->head = rd;
	pthread_mutex_unlock(&w->mu);
}

int s3_slow_leave(struct s3_slow *w, struct s3_slow_read *rd)
{
	pthread_mutex_lock(&w->mu);
	if (rd->prev)
		rd->prev->next = rd->next;
	else
		w->head = rd->next;
	if (rd->next)
		rd->next->prev = rd->prev;
	int fired = rd->fired;
	pthread_mutex_unlock(&w->mu);
	return fired;
}
