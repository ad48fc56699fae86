// SPDX-License-Identifier: GPL-2.0
/*
 * qemu-exit STATUS: end the QEMU test VM through its isa-debug-exit device
 * (iobase 0xf4).  QEMU then exits with (STATUS << 1) | 1, which carries
 * the verdict of the run to the host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

int main(int argc, char **argv)
{
	if (argc != 2 || ioperm(0xf4, 1, 1)) {
		perror("qemu-exit");
		return 1;
	}
	outb(atoi(argv[1]), 0xf4);
	return 1;	/* not reached when the device is there */
}
