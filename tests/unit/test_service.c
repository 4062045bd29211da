/* What running as a service takes (daemon/service.c): the data directory's
 * lock and systemd's notification datagrams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "daemon/service.h"

static void one_lock_per_data_directory(void **state)
{
	char dir[] = "/tmp/atrium-lock-XXXXXX", data[64], path[96], pid[32] = "";
	assert_non_null(mkdtemp(dir));
	snprintf(data, sizeof(data), "%s/data", dir); /* made by the lock */
	log_set_level(LOG_OFF);
	int fd = service_lock(data);
	assert_true(fd >= 0);
	snprintf(path, sizeof(path), "%s/lock", data);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(pid, sizeof(pid), f));
	fclose(f);
	assert_int_equal(strtol(pid, NULL, 10), getpid());
	/* Another open of the file (another daemon) cannot take it... */
	assert_int_equal(service_lock(data), -1);
	/* ...until the holder is gone. */
	close(fd);
	fd = service_lock(data);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	rmdir(data);
	rmdir(dir);
}

static void notify_datagrams(void **state)
{
	char dir[] = "/tmp/atrium-notify-XXXXXX", path[96], got[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setenv("NOTIFY_SOCKET", path, 1);
	service_notify("READY=1");
	ssize_t n = recv(s, got, sizeof(got) - 1, 0);
	assert_true(n > 0);
	got[n] = '\0';
	assert_string_equal(got, "READY=1");
	service_notify("RELOADING=1");
	n = recv(s, got, sizeof(got) - 1, 0);
	assert_true(n > 0);
	got[n] = '\0';
	assert_memory_equal(got, "RELOADING=1\nMONOTONIC_USEC=", 26);
	unsetenv("NOTIFY_SOCKET");
	service_notify("STOPPING=1"); /* nobody listening: nothing happens */
	close(s);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_lock_per_data_directory),
		cmocka_unit_test(notify_datagrams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
