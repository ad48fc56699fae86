/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tiny guests for the lguest selftests, modelled on KVM's kvm_util/ucall.
 *
 * How a tiny guest is built
 * -------------------------
 * A test program carries its guest code as ordinary C functions marked
 * GUEST_CODE (and guest variables marked GUEST_DATA).  The program is a
 * static, non-PIE i386 executable, so every function and variable has a
 * fixed link address (around 0x08048000) and the code refers to them by
 * those absolute addresses.
 *
 * lg_vm_create() does not relocate anything: it copies the whole loaded
 * image of the test program (every PT_LOAD segment: text, rodata, data,
 * bss, as they are in memory at that moment) into guest memory and builds
 * guest page tables that map each of those pages at its link address.  A
 * guest function therefore runs at the same virtual address in the guest
 * as in the launcher, and its string literals, switch jump tables and
 * globals are all where the compiler expects them.  Mapping the whole
 * image rather than only the GUEST_CODE sections is deliberate: gcc puts
 * jump tables, constants and __FILE__ strings in .rodata, and chasing
 * those into special sections is fragile.
 *
 * The guest gets a *copy*: after lg_vm_create() the launcher and the guest
 * each have their own instance of every global.  Use
 * lg_sync_global_to_guest() / lg_sync_global_from_guest() to pass values.
 *
 * Guest memory (guest-physical 0 is vm->mem in the launcher):
 *
 *   0x0000		page 0, never mapped: a guest NULL dereference faults
 *   0x1000		guest stack, LG_STACK_PAGES pages (esp starts at top)
 *   ...		trap stack page for traps from CPL 3 (LHCALL_SET_STACK)
 *   ...		the struct lguest_data page (registered on request)
 *   ...		page directory, page tables, the copied image pages,
 *			then pages handed out by lg_vm_alloc_page()
 *   top		LG_GUEST_POOL_PAGES pages the guest allocates itself
 *			(guest_alloc_page(), e.g. for page tables)
 *
 * Guest-physical [PAGE_SIZE, mem_size) is identity mapped (supervisor,
 * writable), so anything the guest finds by physical address (its page
 * tables, lguest_data, the pool) it can also use as a pointer.  Guest
 * memory must stay below the image (128 MiB) for that.
 *
 * How a tiny guest runs
 * ---------------------
 * The guest starts in lg_guest_start (guest_entry.S) at CPL 1 with the
 * host's default flat segments, esp at the top of the guest stack, and
 * calls guest_code().  It reports to the launcher with "ucalls": GUEST_SYNC,
 * GUEST_ASSERT*, GUEST_PRINTF and GUEST_DONE fill a small struct on the
 * guest stack and pass its address in hypercall LG_HCALL_UCALL, which the
 * host hands to the launcher as LGUEST_EXIT_HYPERCALL.  lg_vcpu_run() runs
 * the guest until it needs the test's attention and decodes a ucall into
 * vm->uc.  Returning from guest_code() is GUEST_DONE().
 *
 * Guest code must be freestanding: no libc, no stack protector (it reads
 * %gs, which is 0 in the guest), no FPU/SSE; the Makefile builds the tiny
 * guest programs accordingly.  Keep guest code simple enough that gcc
 * emits no memcpy/memset calls (no large struct copies or initialisers).
 * "objdump -d -j lg_guest_text" must show no call out of that section
 * but guest_code's.  The header uses tools/include for __section() and
 * READ_ONCE()/WRITE_ONCE().
 *
 * A test, in short:
 *
 *	static GUEST_CODE void guest_code(void)
 *	{
 *		GUEST_ASSERT_EQ(lg_hcall(LG_HCALL_TEST, 1, 2, 3, 4), 10);
 *		GUEST_DONE();
 *	}
 *
 *	vm = lg_vm_create(0, guest_code);
 *	ASSERT_EXIT(vm, LGUEST_EXIT_HYPERCALL);
 *	vm->run.hypercall.ret = 10;
 *	ASSERT_UCALL(vm, UCALL_DONE);
 *	lg_vm_free(vm);
 */
#ifndef SELFTEST_LGUEST_UTIL_H
#define SELFTEST_LGUEST_UTIL_H

/* Constants shared with guest_entry.S. */
#define LG_PAGE_SIZE		0x1000
#define LG_PAGE_MASK		(~(LG_PAGE_SIZE - 1))

#define LG_KERNEL_CS		((12 * 8) | 1)	/* LGUEST_KERNEL_CS */
#define LG_KERNEL_DS		((13 * 8) | 1)	/* LGUEST_KERNEL_DS */
#define LG_USER_CS		((14 * 8) | 3)
#define LG_USER_DS		((15 * 8) | 3)

#define LG_TRAP_ENTRY		0x1F		/* LGUEST_TRAP_ENTRY */
#define LG_NR_VECTORS		256
#define LG_TRAP_STUB_SIZE	16		/* bytes per stub in lg_trap_stubs */

/* Hypercall numbers for the launcher, from LHCALL_LAUNCHER_BASE up. */
#define LG_HCALL_UCALL		0x1000		/* ebx: guest address of ucall */
#define LG_HCALL_TEST		0x1001		/* free for the tests' own use */

#ifndef __ASSEMBLER__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/compiler.h>	/* tools/include: READ_ONCE() and friends */
#include <linux/init.h>		/* tools/include: __section() */
#include <linux/lguest.h>
#include <asm/lguest_para.h>

#include "../../kselftest.h"	/* __printf(), __noreturn, KSFT_* */

#define LG_DEV			"/dev/lguest"
#define LG_MODULE_REFCNT	"/sys/module/lg/refcnt"
#define LG_DEFAULT_MEM_SIZE	(4u << 20)
#define LG_STACK_PAGES		4
#define LG_GUEST_POOL_PAGES	64

/* i386 non-PAE page table entry bits. */
#define LG_PTE_P		0x001
#define LG_PTE_RW		0x002
#define LG_PTE_U		0x004
#define LG_PTE_A		0x020
#define LG_PTE_D		0x040

/* #PF error code bits. */
#define LG_PF_P			0x1
#define LG_PF_W			0x2
#define LG_PF_U			0x4

/* IDT gate types (i386, 32-bit). */
#define LG_GATE_INTR		0xE
#define LG_GATE_TRAP		0xF

#define LG_BAD_ADDR		0xffffffffu

/*
 * Guest code and data go in sections of their own.  Nothing depends on
 * that to run (the whole image is mapped), but it keeps them apart for
 * review, and "objdump -d -j lg_guest_text" shows at a glance whether
 * guest code calls anything outside the guest (it must not call libc).
 */
#define GUEST_CODE	__section("lg_guest_text")
#define GUEST_DATA	__section("lg_guest_data")

/* ucall commands. */
enum {
	UCALL_NONE,	/* the last exit was not a ucall */
	UCALL_SYNC,
	UCALL_ABORT,
	UCALL_PRINTF,
	UCALL_DONE,
};

#define LG_UCALL_NR_ARGS	4

/*
 * What the guest passes by address with LG_HCALL_UCALL.  Pointers are
 * guest-virtual; the launcher reads the strings through the guest's page
 * tables.
 */
struct lg_guest_ucall {
	uint32_t cmd;
	uint32_t line;
	uint32_t file;
	uint32_t expr;
	uint32_t fmt;
	uint32_t args[LG_UCALL_NR_ARGS];
};

/* A decoded ucall, as the launcher sees it (vm->uc). */
struct lg_ucall {
	uint32_t cmd;
	uint32_t args[LG_UCALL_NR_ARGS];
	uint32_t line;
	char file[128];
	char expr[256];
	char msg[256];		/* fmt formatted with args, or "" */
};

/*
 * Set up by lg_vm_create() in the guest's copy of lg_guest_info.  All
 * addresses are guest-physical, identity mapped, so also usable as guest
 * pointers.
 */
struct lg_guest_info {
	uint32_t mem_size;
	uint32_t pgdir;
	uint32_t stack_top;
	uint32_t trap_stack_top;
	uint32_t lguest_data;
	uint32_t pool_next;		/* guest_alloc_page() bumps this */
	uint32_t pool_end;
};

struct lg_vm {
	int fd;
	uint8_t *mem;			/* guest-physical 0 */
	uint32_t mem_size;
	uint32_t pgdir;			/* guest-physical */
	uint32_t next_page;		/* lg_vm_alloc_page() */
	uint32_t pool_start;		/* lg_vm_alloc_page() stops here */
	struct lg_guest_info info;	/* as written to the guest */
	struct lguest_run run;		/* passed to every LGUEST_RUN */
	struct lg_ucall uc;		/* the last exit, decoded */
	char last_print[256];		/* the last GUEST_PRINTF */
	char exit_str[768];		/* scratch for lg_exit_str() */
};

/* ---- launcher side ---- */

bool lg_dev_present(void);
/* lg.ko's reference count, or -1 if there is none to read (built in). */
int lg_module_refcnt(void);
/* Wait up to 5 s for it to be @want (closed files go asynchronously). */
int lg_wait_module_refcnt(int want);
struct lg_vm *lg_vm_create(size_t mem_size, void (*guest_code)(void));
void lg_vm_free(struct lg_vm *vm);

int lg_vcpu_run(struct lg_vm *vm);
uint32_t lg_get_ucall(struct lg_vm *vm, struct lg_ucall *uc);
const char *lg_exit_str(struct lg_vm *vm);
void lg_get_regs(struct lg_vm *vm, struct lguest_regs *regs);
void lg_set_regs(struct lg_vm *vm, const struct lguest_regs *regs);

uint32_t lg_vm_alloc_page(struct lg_vm *vm);
void *lg_gpa2hva(struct lg_vm *vm, uint32_t gpa);
uint32_t lg_gva2gpa(struct lg_vm *vm, uint32_t gva);
void *lg_gva2hva(struct lg_vm *vm, uint32_t gva);
uint32_t *lg_vm_pte(struct lg_vm *vm, uint32_t vaddr, bool create);
void lg_vm_map(struct lg_vm *vm, uint32_t vaddr, uint32_t paddr,
	       uint32_t flags);
void lg_copy_to_guest(struct lg_vm *vm, uint32_t gva, const void *src,
		      size_t len);
void lg_copy_from_guest(struct lg_vm *vm, void *dst, uint32_t gva,
			size_t len);

/* Copy a global (or any object at its link address) to/from the guest. */
#define lg_sync_global_to_guest(vm, g)					\
({									\
	typeof(g) *__g = &(g);						\
	lg_copy_to_guest(vm, (uint32_t)(uintptr_t)__g, __g, sizeof(*__g)); \
})
#define lg_sync_global_from_guest(vm, g)				\
({									\
	typeof(g) *__g = &(g);						\
	lg_copy_from_guest(vm, __g, (uint32_t)(uintptr_t)__g, sizeof(*__g)); \
})

void __noreturn __printf(1, 2) lg_fatal(const char *fmt, ...);

/* ---- guest side ---- */

extern struct lg_guest_info lg_guest_info;

/* A hypercall: number in eax, arguments in ebx, ecx, edx, esi. */
static inline uint32_t lg_hcall(uint32_t nr, uint32_t a1, uint32_t a2,
				uint32_t a3, uint32_t a4)
{
	asm volatile("int $0x1f"
		     : "+a" (nr)
		     : "b" (a1), "c" (a2), "d" (a3), "S" (a4)
		     : "memory");
	return nr;
}

void guest_ucall(uint32_t cmd, const char *file, uint32_t line,
		 const char *expr, const char *fmt, const uint32_t *args);
__printf(5, 6)
void guest_ucall_fmt(uint32_t cmd, const char *file, uint32_t line,
		     const char *expr, const char *fmt, ...);

#define GUEST_SYNC_ARGS(a0, a1, a2, a3)					\
	guest_ucall(UCALL_SYNC, NULL, 0, NULL, NULL,			\
		    (const uint32_t[LG_UCALL_NR_ARGS]) { (a0), (a1), (a2), (a3) })
#define GUEST_SYNC(stage)	GUEST_SYNC_ARGS((stage), 0, 0, 0)
#define GUEST_DONE()		guest_ucall(UCALL_DONE, NULL, 0, NULL, NULL, NULL)

/*
 * printf-lite, formatted by the launcher: at most LG_UCALL_NR_ARGS
 * arguments of 32 bits; %d %i %u %o %x %X %c %p and %s (a guest string).
 */
#define GUEST_PRINTF(fmt, ...)						\
	guest_ucall_fmt(UCALL_PRINTF, __FILE__, __LINE__, NULL, fmt, ##__VA_ARGS__)

#define ____GUEST_ASSERT(cond, expr, fmt, ...)				\
do {									\
	if (!(cond))							\
		guest_ucall_fmt(UCALL_ABORT, __FILE__, __LINE__, expr,	\
				fmt, ##__VA_ARGS__);			\
} while (0)

#define __GUEST_ASSERT(cond, fmt, ...)					\
	____GUEST_ASSERT(cond, #cond, fmt, ##__VA_ARGS__)

#define GUEST_ASSERT(cond)	____GUEST_ASSERT(cond, #cond, NULL)

#define GUEST_FAIL(fmt, ...)						\
	____GUEST_ASSERT(0, "guest failure", fmt, ##__VA_ARGS__)

#define GUEST_ASSERT_EQ(a, b)						\
do {									\
	uint32_t __a = (uint32_t)(a), __b = (uint32_t)(b);		\
	____GUEST_ASSERT(__a == __b, #a " == " #b, "%#x != %#x", __a, __b); \
} while (0)

#define GUEST_ASSERT_NE(a, b)						\
do {									\
	uint32_t __a = (uint32_t)(a), __b = (uint32_t)(b);		\
	____GUEST_ASSERT(__a != __b, #a " != " #b, "%#x == %#x", __a, __b); \
} while (0)

/*
 * The stack frame of a trap, built by the host (eip, cs, eflags and, from
 * CPL 3, esp and ss; the error code for vectors that have one) and by
 * lg_trap_common (the rest).  Handlers may change it; lg_trap_common
 * returns through it with iret.
 */
struct lg_trap_frame {
	uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
	uint32_t es, ds;
	uint32_t vector;
	uint32_t error_code;		/* 0 for vectors without one */
	uint32_t eip, cs, eflags;
	uint32_t user_esp, user_ss;	/* only when (cs & 3) == 3 */
};

typedef void (*lg_trap_handler_t)(struct lg_trap_frame *frame);

void guest_set_idt_gate(unsigned int vector, uint32_t addr,
			unsigned int dpl, unsigned int type);
void guest_set_idt(unsigned int vector, lg_trap_handler_t handler,
		   unsigned int dpl);
void guest_set_trap_stack(void);
struct lguest_data *guest_lguest_init(void);
uint32_t guest_alloc_page(void);
bool guest_map_page(uint32_t vaddr, uint32_t paddr, uint32_t flags);
uint32_t *guest_pte(uint32_t vaddr);
uint32_t guest_enter_user(uint32_t eip, uint32_t esp);
uint32_t guest_enter_user_ss(uint32_t eip, uint32_t esp, uint32_t ss);
void guest_return_from_user(struct lg_trap_frame *frame, uint32_t value);

/* In guest_entry.S. */
extern char lg_guest_start[];
extern char lg_trap_stubs[];
extern char lg_user_return[];

/* ---- for kselftest_harness.h tests ---- */

#ifdef __KSELFTEST_HARNESS_H

#define LG_NO_DEV_MSG	LG_DEV " does not exist (lg.ko not loaded?)"

/* Run the guest and expect ucall @_cmd; log the exit otherwise. */
#define ASSERT_UCALL(_vm, _cmd)						\
do {									\
	struct lg_vm *__vm = (_vm);					\
									\
	ASSERT_EQ(0, lg_vcpu_run(__vm)) {				\
		TH_LOG("LGUEST_RUN: %s", lg_exit_str(__vm));		\
	}								\
	ASSERT_EQ((_cmd), __vm->uc.cmd) {				\
		TH_LOG("%s", lg_exit_str(__vm));			\
	}								\
} while (0)

/* Run the guest and expect exit reason @_reason (not a ucall). */
#define ASSERT_EXIT(_vm, _reason)					\
do {									\
	struct lg_vm *__vm = (_vm);					\
									\
	ASSERT_EQ(0, lg_vcpu_run(__vm)) {				\
		TH_LOG("LGUEST_RUN: %s", lg_exit_str(__vm));		\
	}								\
	ASSERT_EQ((_reason), __vm->run.exit_reason) {			\
		TH_LOG("%s", lg_exit_str(__vm));			\
	}								\
	ASSERT_EQ(UCALL_NONE, __vm->uc.cmd) {				\
		TH_LOG("%s", lg_exit_str(__vm));			\
	}								\
} while (0)

#endif /* __KSELFTEST_HARNESS_H */

#endif /* !__ASSEMBLER__ */

#endif /* SELFTEST_LGUEST_UTIL_H */
