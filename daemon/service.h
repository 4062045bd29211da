/*
 * service — what running as a system service takes, for atriumd: one
 * daemon per data directory, systemd's readiness notifications, and log
 * files that logrotate may move away (reopened on SIGHUP).
 *
 * None of it keeps state but what the caller holds (the lock's descriptor,
 * struct service_log); called from the daemon's main thread.
 */
#ifndef SRC_SERVICE_H
#define SRC_SERVICE_H

#include <sys/types.h>

/* Takes DATA/lock (created 0644; DATA created 0700 if missing): an flock
 * held for the daemon's life, with its pid written inside for people and
 * for the message a second daemon prints. Returns the descriptor to keep
 * open, or -1 after logging why (another atriumd holds it: its pid). */
int service_lock(const char *data_dir);

/* systemd's notification protocol (sd_notify(3)): one datagram to the
 * socket named by $NOTIFY_SOCKET, if set ("READY=1", "STOPPING=1",
 * "RELOADING=1"; RELOADING gets MONOTONIC_USEC added, as systemd asks).
 * Failures are ignored: nobody may be listening. */
void service_notify(const char *state);

/* Standard error, when it is a regular file (atriumd 2>>FILE): its path,
 * so SIGHUP can reopen it after logrotate renamed it. */
struct service_log {
	char path[4096];        /* "" when stderr is not a file */
	dev_t dev;
	ino_t ino;
};
void service_log_init(struct service_log *l);
/* Reopens the path on stderr (O_APPEND) if the file there now is another
 * one (renamed away, or removed): 1 if it did, 0 if nothing to do, -1 on
 * error (logged; stderr stays). */
int service_log_reopen(struct service_log *l);

#endif
