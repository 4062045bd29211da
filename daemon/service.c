#include "daemon/service.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/banned.h"

int service_lock(const char *data_dir)
{
	char path[4096], held[32] = "";
	if (mkdir(data_dir, 0700) && errno != EEXIST) {
		LOG(LOG_ERROR, "cannot create the data directory %s: %s", data_dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/lock", data_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		LOG(LOG_ERROR, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	/* flock, not fcntl locks: it belongs to this open file, so nothing
	 * else the process opens or closes can drop it, and the kernel
	 * releases it when the daemon dies however it dies. */
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int e = errno;
		ssize_t n = pread(fd, held, sizeof(held) - 1, 0);
		held[n > 0 ? n : 0] = '\0';
		held[strcspn(held, "\n")] = '\0';
		if (e == EWOULDBLOCK)
			LOG(LOG_ERROR, "the data directory %s is in use by another atriumd (pid %s, "
			    "holding %s): stop it first, or give this one another --data",
			    data_dir, *held ? held : "unknown", path);
		else
			LOG(LOG_ERROR, "cannot lock %s: %s", path, strerror(e));
		close(fd);
		return -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n)
		LOG(LOG_WARN, "cannot write the pid into %s: %s", path, strerror(errno));
	return fd;
}

void service_notify(const char *state)
{
	const char *where = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[256];
	size_t len;
	if (!where || (*where != '/' && *where != '@') || (len = strlen(where)) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, where, len);
	if (*where == '@')
		sa.sun_path[0] = '\0'; /* an abstract socket */
	if (!strcmp(state, "RELOADING=1")) {
		/* systemd (254+) matches a reload with the time it began. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		snprintf(msg, sizeof(msg), "%s\nMONOTONIC_USEC=%llu", state,
			 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	} else {
		snprintf(msg, sizeof(msg), "%s", state);
	}
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		LOG(LOG_DEBUG, "notify %s: %s", where, strerror(errno));
	close(fd);
}

void service_log_init(struct service_log *l)
{
	struct stat st;
	memset(l, 0, sizeof(*l));
	if (fstat(STDERR_FILENO, &st) || !S_ISREG(st.st_mode))
		return;
	ssize_t n = readlink("/proc/self/fd/2", l->path, sizeof(l->path) - 1);
	if (n <= 0 || l->path[0] != '/') {
		l->path[0] = '\0';
		return;
	}
	l->path[n] = '\0';
	l->dev = st.st_dev;
	l->ino = st.st_ino;
}

int service_log_reopen(struct service_log *l)
{
	struct stat st;
	if (!*l->path || (!stat(l->path, &st) && st.st_dev == l->dev && st.st_ino == l->ino))
		return 0;
	int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0 || fstat(fd, &st)) {
		LOG(LOG_ERROR, "cannot reopen the log %s: %s", l->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* dup2 swaps the file behind descriptor 2 in one step: a thread
	 * logging meanwhile writes to the old file or the new one, never to
	 * a descriptor number that something else reopened. */
	if (dup2(fd, STDERR_FILENO) < 0) {
		LOG(LOG_ERROR, "cannot reopen the log %s: %s", l->path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	return 1;
}
