/*
 * fdcheck: prints what a process inherited that it should not have.
 *   fds: 0 1 2          the open descriptors (from /proc/self/fd)
 *   SigBlk: ...         these three lines as /proc/self/status has them
 *   SigIgn: ...
 *   SigCgt: ...
 * Exits 0, or 1 if /proc cannot be read.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int
main(void)
{
	int fds[1024], n = 0, i;
	char line[256];
	struct dirent *d;
	DIR *dir;
	FILE *f;

	dir = opendir("/proc/self/fd");
	if (!dir)
		return 1;
	while ((d = readdir(dir)))
		if (d->d_name[0] >= '0' && d->d_name[0] <= '9' &&
		    atoi(d->d_name) != dirfd(dir) && n < 1024)
			fds[n++] = atoi(d->d_name);
	closedir(dir);
	qsort(fds, (size_t)n, sizeof(fds[0]), cmp_int);
	printf("fds:");
	for (i = 0; i < n; i++)
		printf(" %d", fds[i]);
	printf("\n");
	f = fopen("/proc/self/status", "re");
	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "SigBlk:", 7) ||
		    !strncmp(line, "SigIgn:", 7) ||
		    !strncmp(line, "SigCgt:", 7))
			fputs(line, stdout);
	fclose(f);
	return fflush(stdout) == 0 ? 0 : 1;
}
