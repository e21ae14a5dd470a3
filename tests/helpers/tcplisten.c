/*
 * tcplisten ADDR:PORT... — TCP listeners for the netcheck tests.
 *
 * Listens on every ADDR:PORT (IPv4), prints "tcplisten ready" once all
 * are bound, then accepts connections forever: each gets "hello\n" and
 * is closed.  Exit status 2 on a bad argument, 1 when it cannot bind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LISTEN 16

int
main(int argc, char **argv)
{
	struct pollfd p[MAX_LISTEN];
	int i, n = argc - 1, one = 1;

	if (n < 1 || n > MAX_LISTEN) {
		fprintf(stderr, "usage: tcplisten ADDR:PORT...\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		struct sockaddr_in sa;
		char host[64];
		const char *colon = strrchr(argv[i + 1], ':');
		size_t hl = colon ? (size_t)(colon - argv[i + 1]) : 0;

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		if (!colon || hl >= sizeof(host)) {
			fprintf(stderr, "tcplisten: bad '%s'\n", argv[i + 1]);
			return 2;
		}
		memcpy(host, argv[i + 1], hl);
		host[hl] = 0;
		sa.sin_port = htons((unsigned short)atoi(colon + 1));
		if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
			fprintf(stderr, "tcplisten: bad '%s'\n", argv[i + 1]);
			return 2;
		}
		p[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		p[i].events = POLLIN;
		if (p[i].fd < 0)
			return 1;
		(void)setsockopt(p[i].fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (bind(p[i].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(p[i].fd, 64) < 0) {
			fprintf(stderr, "tcplisten: bind %s: %s\n", argv[i + 1],
			    strerror(errno));
			return 1;
		}
	}
	printf("tcplisten ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (i = 0; i < n; i++)
			if (p[i].revents & POLLIN) {
				int c =
				    accept4(p[i].fd, NULL, NULL, SOCK_CLOEXEC);

				if (c >= 0) {
					(void)!write(c, "hello\n", 6);
					close(c);
				}
			}
	}
}
