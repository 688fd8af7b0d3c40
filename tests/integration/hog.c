/* hog - make this host short of memory for a scenario test.
 *
 *   hog LEAVE_MIB [FOLLOW_S]
 *                      allocate and touch anonymous memory until the host's
 *                      MemAvailable is about LEAVE_MIB, then hold it until
 *                      killed (SIGTERM). Prints "hog: holding N MiB" when
 *                      ready. With FOLLOW_S, for that many seconds more it
 *                      takes again whatever the host gets back (a host
 *                      whose other demand eats what is freed: it stays
 *                      short), then lets go of what it took meanwhile (the
 *                      demand ends) and only holds.
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

/* what was taken while following, to let go of it afterwards */
#define MAX_MAPS 4096
static void *maps[MAX_MAPS];
static size_t map_len[MAX_MAPS];
static int nr_maps;

/* Allocate until MemAvailable is about leave; the MiB taken. keep: note
 * the mappings for let_go(). */
static long
fill_to(long leave, int keep)
{
	long held = 0;

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
		if (keep && nr_maps < MAX_MAPS) {
			maps[nr_maps] = p;
			map_len[nr_maps++] = (size_t)chunk_mib << 20;
		}
		held += chunk_mib;
	}
	return held;
}

static long
let_go(void)
{
	long mib = 0;

	while (nr_maps > 0) {
		nr_maps--;
		munmap(maps[nr_maps], map_len[nr_maps]);
		mib += (long)(map_len[nr_maps] >> 20);
	}
	return mib;
}

int
main(int argc, char **argv)
{
	long leave, follow = 0, held;
	int fd;

	if (argc < 2 || argc > 3 || (leave = strtol(argv[1], NULL, 10)) <= 0 ||
	    (argc == 3 && (follow = strtol(argv[2], NULL, 10)) < 0)) {
		fprintf(stderr, "usage: hog LEAVE_MIB [FOLLOW_S]\n");
		return 2;
	}
	fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1000", 4) != 4)
			perror("oom_score_adj");
		close(fd);
	}
	held = fill_to(leave, 0);
	printf("hog: holding %ld MiB, MemAvailable %ld MiB\n", held,
	    mem_available_mib());
	fflush(stdout);
	for (long t = 0; t < follow; t++) {
		sleep(1);
		held += fill_to(leave, 1);
	}
	if (follow > 0) {
		long back = let_go();

		printf("hog: done following, gave back %ld MiB, holding %ld "
		    "MiB\n", back, held - back);
		fflush(stdout);
	}
	for (;;)
		pause();
}
