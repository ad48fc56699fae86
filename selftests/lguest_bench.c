// SPDX-License-Identifier: GPL-2.0
/*
 * lguest_bench: the cost of a trip through the switcher, next to the cost
 * of a native system call on the same host, in the same run.
 *
 * A tiny guest makes N null hypercalls (LHCALL_FLUSH_ASYNC with an empty
 * ring: into the host and straight back), while the launcher times the
 * LGUEST_RUN that covers them and reads the guest's exit counters from
 * debugfs.  The native side is N getpid() system calls.  Absolute times
 * under emulation mean little; the ratio and the exits per operation are
 * the numbers to compare.  Not a test: it is built and installed, and run
 * by scripts/bench.sh.
 */
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lguest_util.h"

#define N_OPS	100000

static uint32_t n_ops GUEST_DATA = N_OPS;

static GUEST_CODE void guest_null_hypercalls(void)
{
	uint32_t i;

	GUEST_SYNC(0);
	for (i = 0; i < n_ops; i++)
		lg_hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	GUEST_DONE();
}

/* Integer arithmetic only: the program is built -mgeneral-regs-only. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The guest's hypercall exits so far, from debugfs. */
static unsigned long hypercall_exits(void)
{
	unsigned long n = 0;
	char pattern[64], name[32];
	glob_t g;
	FILE *f;

	snprintf(pattern, sizeof(pattern),
		 "/sys/kernel/debug/lguest/%d-*/exits", getpid());
	if (glob(pattern, 0, NULL, &g) || g.gl_pathc != 1)
		lg_fatal("cannot find %s", pattern);
	f = fopen(g.gl_pathv[0], "r");
	if (!f)
		lg_fatal("cannot open %s", g.gl_pathv[0]);
	while (fscanf(f, "%31s %lu", name, &n) == 2)
		if (!strcmp(name, "hypercall"))
			break;
	fclose(f);
	globfree(&g);
	return n;
}

int main(void)
{
	uint64_t t0, native_ns, guest_ns;
	unsigned long exits0, exits;
	struct lg_vm *vm;
	int i;

	if (!lg_dev_present()) {
		printf("lguest_bench: no %s\n", LG_DEV);
		return 4;
	}

	t0 = now_ns();
	for (i = 0; i < N_OPS; i++)
		syscall(SYS_getpid);
	native_ns = (now_ns() - t0) / N_OPS;

	vm = lg_vm_create(0, guest_null_hypercalls);
	if (lg_vcpu_run(vm) || vm->uc.cmd != UCALL_SYNC)
		lg_fatal("guest did not start: %s", lg_exit_str(vm));
	exits0 = hypercall_exits();
	t0 = now_ns();
	if (lg_vcpu_run(vm) || vm->uc.cmd != UCALL_DONE)
		lg_fatal("guest did not finish: %s", lg_exit_str(vm));
	guest_ns = (now_ns() - t0) / N_OPS;
	/* The GUEST_DONE report is one more hypercall. */
	exits = hypercall_exits() - exits0 - 1;
	lg_vm_free(vm);

	printf("bench: native getpid: %llu ns/op\n",
	       (unsigned long long)native_ns);
	printf("bench: null hypercall: %llu ns/op, %lu.%02lu exits/op\n",
	       (unsigned long long)guest_ns, exits / N_OPS,
	       exits % N_OPS * 100 / N_OPS);
	printf("bench: hypercall/getpid ratio: %llu.%02llu\n",
	       (unsigned long long)(guest_ns / native_ns),
	       (unsigned long long)(guest_ns * 100 / native_ns % 100));
	return 0;
}
