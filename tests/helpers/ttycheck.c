/*
 * ttycheck: is this process in the foreground process group of its
 * controlling terminal (stdin)?  Prints
 *   tty: isatty=1 pgrp=P tpgrp=T fg=1
 * and exits 0 when it is in the foreground, 2 when it is not.
 */
#include <stdio.h>
#include <unistd.h>

int
main(void)
{
	int tty = isatty(STDIN_FILENO);
	pid_t pgrp = getpgrp(), tpgrp = tty ? tcgetpgrp(STDIN_FILENO) : -1;
	int fg = tty && tpgrp == pgrp;

	printf("tty: isatty=%d pgrp=%ld tpgrp=%ld fg=%d\n", tty, (long)pgrp,
	    (long)tpgrp, fg);
	fflush(stdout);
	return fg ? 0 : 2;
}
