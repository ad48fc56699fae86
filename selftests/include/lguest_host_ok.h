/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For tests that try to hurt the host: is it still fine afterwards?  A
 * fresh guest must start, make hypercall round trips to the launcher with
 * its arguments and results intact, and finish.  Include after
 * kselftest_harness.h and lguest_util.h; call lg_assert_host_ok(_metadata)
 * at the end of a test.
 */
#ifndef SELFTEST_LGUEST_HOST_OK_H
#define SELFTEST_LGUEST_HOST_OK_H

#include "lguest_util.h"

#define LG_HOST_OK_ROUND_TRIPS	16

static inline uint32_t lg_host_ok_ret(uint32_t i)
{
	return i * 0x9e3779b9u + 0x600d;
}

static GUEST_CODE void guest_host_ok(void)
{
	uint32_t i;

	for (i = 0; i < LG_HOST_OK_ROUND_TRIPS; i++)
		GUEST_ASSERT_EQ(lg_hcall(LG_HCALL_TEST, i, ~i, 0, 0),
				lg_host_ok_ret(i));
	GUEST_DONE();
}

static void lg_assert_host_ok(struct __test_metadata *_metadata)
{
	struct lg_vm *vm = lg_vm_create(0, guest_host_ok);
	uint32_t i;

	for (i = 0; i < LG_HOST_OK_ROUND_TRIPS; i++) {
		ASSERT_EXIT(vm, LGUEST_EXIT_HYPERCALL);
		ASSERT_EQ(LG_HCALL_TEST, vm->run.hypercall.nr);
		ASSERT_EQ(i, vm->run.hypercall.args[0]);
		ASSERT_EQ(~i, vm->run.hypercall.args[1]);
		vm->run.hypercall.ret = lg_host_ok_ret(i);
	}
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
}

#endif /* SELFTEST_LGUEST_HOST_OK_H */
