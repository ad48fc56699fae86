// SPDX-License-Identifier: GPL-2.0
/*
 * A kernel built with CONFIG_LGUEST_GUEST must behave, when it boots on
 * hardware, exactly like one built without it.  The rig runs this test on
 * such a kernel booted natively (the lguest host); the kernel's own
 * selftests, run natively and in a guest (scripts/rig/), cover the rest.
 *
 * PARAVIRT_XXL on 32-bit once left pv_ops.cpu.load_gs_index without a
 * native implementation: any process that made the kernel reload its %gs
 * oopsed the kernel (BUG_func).  set_thread_area() on the TLS entry %gs
 * holds is such a reload.
 */
#include <stdint.h>
#include <sys/syscall.h>
#include <asm/ldt.h>

#include "../kselftest_harness.h"

static uint32_t first_data[4] = { 0x11111111 };
static uint32_t second_data[4] = { 0x22222222 };

TEST(set_thread_area_reloads_current_gs)
{
	struct user_desc desc = {
		.entry_number = -1,
		.base_addr = (uintptr_t)first_data,
		.limit = 0xfffff,
		.seg_32bit = 1,
		.limit_in_pages = 1,
	};
	uint32_t sel, before, after, gs_after, ret;

	ASSERT_EQ(0, syscall(SYS_set_thread_area, &desc));
	sel = (desc.entry_number << 3) | 3;
	desc.base_addr = (uintptr_t)second_data;

	/*
	 * Raw int $0x80 with our selector in %gs: libc keeps its thread
	 * pointer in %gs, so no C code runs until it is back.
	 */
	asm volatile("pushl %%gs\n\t"
		     "movl %[sel], %%gs\n\t"
		     "movl %%gs:0, %[before]\n\t"
		     "int $0x80\n\t"
		     "movl %%gs:0, %[after]\n\t"
		     "movl %%gs, %[gs_after]\n\t"
		     "popl %%gs"
		     : "=a" (ret), [before] "=&r" (before),
		       [after] "=&r" (after), [gs_after] "=&r" (gs_after)
		     : "0" (SYS_set_thread_area), "b" (&desc), [sel] "r" (sel)
		     : "memory");
	ASSERT_EQ(0, ret);
	EXPECT_EQ(first_data[0], before);
	/* The kernel reloaded %gs: the new base is in effect at once. */
	EXPECT_EQ(sel, gs_after & 0xffff);
	EXPECT_EQ(second_data[0], after);
}

TEST_HARNESS_MAIN
