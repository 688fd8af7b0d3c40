/* hog - make this host short of memory for a scenario test.
 *
 *   hog LEAVE_MIB      allocate and touch anonymous memory until the host's
 *                      MemAvailable is about LEAVE_MIB, then hold it until
 *                      killed (SIGTERM). Prints "hog: holding N MiB" when
 *                      ready.
 *
 * It makes itself the OOM killer's first choice, so a scenario that goes
 * wrong costs the hog, not a guest or the test runner.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static long
mem_available_mib(void)
{
	/* /proc/meminfo is about 1.5 KiB */
	char buf[8192], *p;
	int fd = open("/proc/meminfo", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "MemAvailable:");
	return p ? strtol(p + 13, NULL, 10) / 1024 : -1;
}

int
main(int argc, char **argv)
{
	long leave, held = 0;
	int fd;

	if (argc != 2 || (leave = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: hog LEAVE_MIB\n");
		return 2;
	}
	fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1000", 4) != 4)
			perror("oom_score_adj");
		close(fd);
	}
	for (;;) {
		long avail = mem_available_mib();
		/* big steps while far away, small ones near the mark */
		long chunk_mib = avail - leave > 2048 ? 1024 : 32;
		char *p;

		if (avail < 0 || avail - chunk_mib < leave)
			break;
		/* populated private anonymous memory: resident at once, and
		 * never marked mergeable, so KSM cannot give any of it back */
		p = mmap(NULL, (size_t)chunk_mib << 20, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED)
			break;
		held += chunk_mib;
	}
	printf("hog: holding %ld MiB, MemAvailable %ld MiB\n", held,
	    mem_available_mib());
	fflush(stdout);
	for (;;)
		pause();
}
