// SPDX-License-Identifier: GPL-2.0
/*
 * Tiny guests for the lguest selftests: creating and running them (the
 * launcher side) and the small runtime the guest code links against (the
 * guest side, marked GUEST_CODE).  See include/lguest_util.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "lguest_util.h"

/* ---- launcher side ---- */

/*
 * Library errors are bugs in the test or the setup, not test results:
 * report them and end the test process, which the harness counts as a
 * failure.  _exit() because the harness forks a child per test and the
 * child must not run the parent's atexit handlers.
 */
void lg_fatal(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("# lguest_util: ", stdout);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	_exit(KSFT_FAIL);
}

bool lg_dev_present(void)
{
	return access(LG_DEV, F_OK) == 0;
}

int lg_module_refcnt(void)
{
	FILE *f = fopen(LG_MODULE_REFCNT, "r");
	int n;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

int lg_wait_module_refcnt(int want)
{
	int ms, n = lg_module_refcnt();

	for (ms = 0; n >= 0 && n != want && ms < 5000; ms += 10) {
		usleep(10 * 1000);
		n = lg_module_refcnt();
	}
	return n;
}

uint32_t lg_vm_alloc_page(struct lg_vm *vm)
{
	uint32_t gpa = vm->next_page;

	if (gpa >= vm->pool_start)
		lg_fatal("guest memory (%#x bytes) exhausted", vm->mem_size);
	vm->next_page += LG_PAGE_SIZE;
	memset(vm->mem + gpa, 0, LG_PAGE_SIZE);
	return gpa;
}

void *lg_gpa2hva(struct lg_vm *vm, uint32_t gpa)
{
	if (gpa >= vm->mem_size)
		lg_fatal("guest-physical %#x outside guest memory", gpa);
	return vm->mem + gpa;
}

/* Return a pointer to the PTE of @vaddr, making its page table if asked. */
uint32_t *lg_vm_pte(struct lg_vm *vm, uint32_t vaddr, bool create)
{
	uint32_t *pgd = lg_gpa2hva(vm, vm->pgdir);
	uint32_t *pde = &pgd[vaddr >> 22];
	uint32_t *pt;

	if (!(*pde & LG_PTE_P)) {
		if (!create)
			return NULL;
		/*
		 * The page directory entry is as permissive as it can be;
		 * the PTEs decide, as in Linux.
		 */
		*pde = lg_vm_alloc_page(vm) | LG_PTE_P | LG_PTE_RW | LG_PTE_U;
	}
	pt = lg_gpa2hva(vm, *pde & LG_PAGE_MASK);
	return &pt[(vaddr >> 12) & 1023];
}

/* Map guest-virtual page @vaddr to guest-physical @paddr, present. */
void lg_vm_map(struct lg_vm *vm, uint32_t vaddr, uint32_t paddr,
	       uint32_t flags)
{
	if ((vaddr | paddr) & ~LG_PAGE_MASK)
		lg_fatal("%s(%#x, %#x): not page aligned", __func__,
			 vaddr, paddr);
	if (paddr >= vm->mem_size)
		lg_fatal("%s(%#x, %#x): outside guest memory", __func__,
			 vaddr, paddr);
	*lg_vm_pte(vm, vaddr, true) = paddr | (flags & ~LG_PAGE_MASK) | LG_PTE_P;
}

/*
 * Walk the guest's page tables as they are in guest memory now, so this
 * also sees changes the guest made itself.
 */
uint32_t lg_gva2gpa(struct lg_vm *vm, uint32_t gva)
{
	uint32_t *pgd = lg_gpa2hva(vm, vm->pgdir);
	uint32_t pde = pgd[gva >> 22];
	uint32_t pte;

	if (!(pde & LG_PTE_P) || (pde & LG_PAGE_MASK) >= vm->mem_size)
		return LG_BAD_ADDR;
	pte = ((uint32_t *)(vm->mem + (pde & LG_PAGE_MASK)))[(gva >> 12) & 1023];
	if (!(pte & LG_PTE_P) || (pte & LG_PAGE_MASK) >= vm->mem_size)
		return LG_BAD_ADDR;
	return (pte & LG_PAGE_MASK) | (gva & ~LG_PAGE_MASK);
}

void *lg_gva2hva(struct lg_vm *vm, uint32_t gva)
{
	uint32_t gpa = lg_gva2gpa(vm, gva);

	if (gpa == LG_BAD_ADDR)
		lg_fatal("guest-virtual %#x is not mapped", gva);
	return vm->mem + gpa;
}

/* Guest pages need not be contiguous: copy page by page. */
void lg_copy_to_guest(struct lg_vm *vm, uint32_t gva, const void *src,
		      size_t len)
{
	const uint8_t *s = src;

	while (len) {
		size_t n = LG_PAGE_SIZE - (gva & ~LG_PAGE_MASK);

		if (n > len)
			n = len;
		memcpy(lg_gva2hva(vm, gva), s, n);
		gva += n;
		s += n;
		len -= n;
	}
}

void lg_copy_from_guest(struct lg_vm *vm, void *dst, uint32_t gva,
			size_t len)
{
	uint8_t *d = dst;

	while (len) {
		size_t n = LG_PAGE_SIZE - (gva & ~LG_PAGE_MASK);

		if (n > len)
			n = len;
		memcpy(d, lg_gva2hva(vm, gva), n);
		gva += n;
		d += n;
		len -= n;
	}
}

/*
 * Read a NUL-terminated string the guest points to.  The guest may be
 * broken, so never trust the pointer: stop at an unmapped page and always
 * terminate.
 */
static void lg_read_guest_str(struct lg_vm *vm, uint32_t gva, char *buf,
			      size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size; i++, gva++) {
		uint32_t gpa = lg_gva2gpa(vm, gva);

		if (gpa == LG_BAD_ADDR) {
			snprintf(buf + i, size - i, "<bad address %#x>", gva);
			return;
		}
		buf[i] = vm->mem[gpa];
		if (!buf[i])
			return;
	}
	buf[i] = '\0';
}

/*
 * Format a guest's printf-lite string: each conversion takes one 32-bit
 * argument; %s arguments are guest pointers and are read from guest memory.
 */
static void lg_format(struct lg_vm *vm, char *out, size_t size,
		      uint32_t fmt_gva, const uint32_t *args)
{
	char fmt[256], spec[16], str[128];
	size_t len = 0, n;
	unsigned int argi = 0;
	const char *p;

	out[0] = '\0';
	if (!fmt_gva)
		return;
	lg_read_guest_str(vm, fmt_gva, fmt, sizeof(fmt));
	for (p = fmt; *p && len + 1 < size; p++) {
		const char *start = p;
		uint32_t arg;

		if (*p != '%' || p[1] == '%') {
			out[len++] = *p;
			if (*p == '%')
				p++;
			continue;
		}
		/* Flags, width, precision; length modifiers are ignored. */
		p++;
		while (*p && strchr("#0- +.123456789", *p))
			p++;
		n = p - start;
		while (*p == 'l' || *p == 'h' || *p == 'z')
			p++;
		if (!*p || !strchr("diouxXcsp", *p) || n + 2 > sizeof(spec)) {
			len += snprintf(out + len, size - len, "<bad format>");
			break;
		}
		memcpy(spec, start, n);
		spec[n] = *p;
		spec[n + 1] = '\0';
		arg = argi < LG_UCALL_NR_ARGS ? args[argi] : 0;
		argi++;
		if (*p == 's') {
			lg_read_guest_str(vm, arg, str, sizeof(str));
			n = snprintf(out + len, size - len, spec, str);
		} else if (*p == 'p') {
			spec[n] = 'x';
			n = snprintf(out + len, size - len, spec, arg);
		} else {
			n = snprintf(out + len, size - len, spec, arg);
		}
		len += n;
		if (len >= size)
			len = size - 1;
	}
	out[len] = '\0';
}

static void lg_decode_ucall(struct lg_vm *vm, uint32_t gva)
{
	struct lg_guest_ucall guc;
	struct lg_ucall *uc = &vm->uc;

	memset(uc, 0, sizeof(*uc));
	if (lg_gva2gpa(vm, gva) == LG_BAD_ADDR ||
	    lg_gva2gpa(vm, gva + sizeof(guc) - 1) == LG_BAD_ADDR) {
		uc->cmd = UCALL_ABORT;
		snprintf(uc->msg, sizeof(uc->msg),
			 "ucall with unmapped address %#x", gva);
		return;
	}
	lg_copy_from_guest(vm, &guc, gva, sizeof(guc));
	uc->cmd = guc.cmd;
	uc->line = guc.line;
	memcpy(uc->args, guc.args, sizeof(uc->args));
	if (guc.file)
		lg_read_guest_str(vm, guc.file, uc->file, sizeof(uc->file));
	if (guc.expr)
		lg_read_guest_str(vm, guc.expr, uc->expr, sizeof(uc->expr));
	lg_format(vm, uc->msg, sizeof(uc->msg), guc.fmt, guc.args);
	if (uc->cmd == UCALL_NONE || uc->cmd > UCALL_DONE) {
		snprintf(uc->msg, sizeof(uc->msg), "unknown ucall %u", uc->cmd);
		uc->cmd = UCALL_ABORT;
	}
}

/*
 * Run the guest until it needs the test: any exit other than a
 * GUEST_PRINTF, which is printed here and resumed.  Returns 0, or -errno
 * if LGUEST_RUN failed (-EINTR with LGUEST_EXIT_INTR on a signal).  The
 * exit is in vm->run; if it was a ucall, vm->uc holds it, else
 * vm->uc.cmd is UCALL_NONE.  The result of a launcher hypercall other
 * than a ucall is whatever the test leaves in vm->run.hypercall.ret.
 */
int lg_vcpu_run(struct lg_vm *vm)
{
	for (;;) {
		vm->uc.cmd = UCALL_NONE;
		if (ioctl(vm->fd, LGUEST_RUN, &vm->run) < 0)
			return -errno;
		if (vm->run.exit_reason != LGUEST_EXIT_HYPERCALL ||
		    vm->run.hypercall.nr != LG_HCALL_UCALL)
			return 0;

		lg_decode_ucall(vm, vm->run.hypercall.args[0]);
		vm->run.hypercall.ret = 0;
		if (vm->uc.cmd != UCALL_PRINTF)
			return 0;
		snprintf(vm->last_print, sizeof(vm->last_print), "%s",
			 vm->uc.msg);
		printf("# guest: %s\n", vm->uc.msg);
		fflush(stdout);
	}
}

uint32_t lg_get_ucall(struct lg_vm *vm, struct lg_ucall *uc)
{
	if (uc)
		*uc = vm->uc;
	return vm->uc.cmd;
}

/* Describe the last exit for a test log. */
const char *lg_exit_str(struct lg_vm *vm)
{
	char *s = vm->exit_str;
	size_t size = sizeof(vm->exit_str);
	struct lguest_run *run = &vm->run;

	switch (vm->uc.cmd) {
	case UCALL_SYNC:
		snprintf(s, size, "GUEST_SYNC(%#x, %#x, %#x, %#x)",
			 vm->uc.args[0], vm->uc.args[1], vm->uc.args[2],
			 vm->uc.args[3]);
		return s;
	case UCALL_ABORT:
		snprintf(s, size, "guest assertion failed at %s:%u: %s%s%s",
			 vm->uc.file, vm->uc.line, vm->uc.expr,
			 vm->uc.msg[0] ? ": " : "", vm->uc.msg);
		return s;
	case UCALL_DONE:
		return "GUEST_DONE";
	}

	switch (run->exit_reason) {
	case LGUEST_EXIT_NONE:
		return "no exit";
	case LGUEST_EXIT_MMIO:
		snprintf(s, size, "MMIO %s of %u bytes at %#llx",
			 run->mmio.is_write ? "write" : "read", run->mmio.len,
			 (unsigned long long)run->mmio.phys_addr);
		return s;
	case LGUEST_EXIT_HYPERCALL:
		snprintf(s, size, "hypercall %#x(%#x, %#x, %#x, %#x)",
			 run->hypercall.nr, run->hypercall.args[0],
			 run->hypercall.args[1], run->hypercall.args[2],
			 run->hypercall.args[3]);
		return s;
	case LGUEST_EXIT_SHUTDOWN:
		snprintf(s, size, "shutdown, type %u", run->shutdown.type);
		return s;
	case LGUEST_EXIT_DEAD:
		snprintf(s, size, "guest dead: %.*s", LGUEST_REASON_LEN,
			 run->dead.reason);
		return s;
	case LGUEST_EXIT_INTR:
		return "interrupted by a signal";
	}
	snprintf(s, size, "unknown exit reason %u", run->exit_reason);
	return s;
}

void lg_get_regs(struct lg_vm *vm, struct lguest_regs *regs)
{
	if (ioctl(vm->fd, LGUEST_GET_REGS, regs) < 0)
		lg_fatal("LGUEST_GET_REGS: %s", strerror(errno));
}

void lg_set_regs(struct lg_vm *vm, const struct lguest_regs *regs)
{
	if (ioctl(vm->fd, LGUEST_SET_REGS, regs) < 0)
		lg_fatal("LGUEST_SET_REGS: %s", strerror(errno));
}

/*
 * Copy one loaded segment of this program into guest memory and map it
 * at its own address.  Segments may share a page (the end of one, the
 * start of the next): such a page is copied once and gets the union of
 * the permissions.
 */
static void lg_map_segment(struct lg_vm *vm, uint32_t start, uint32_t end,
			   bool writable)
{
	uint32_t va;

	for (va = start & LG_PAGE_MASK; va < end; va += LG_PAGE_SIZE) {
		uint32_t *pte = lg_vm_pte(vm, va, true);
		uint32_t gpa;

		if (!(*pte & LG_PTE_P)) {
			gpa = lg_vm_alloc_page(vm);
			memcpy(vm->mem + gpa, (void *)(uintptr_t)va,
			       LG_PAGE_SIZE);
			*pte = gpa | LG_PTE_P;
		}
		if (writable)
			*pte |= LG_PTE_RW;
	}
}

static int lg_map_phdr(struct dl_phdr_info *info, size_t size, void *data)
{
	struct lg_vm *vm = data;
	int i;

	/* Only the executable itself; a static program has nothing else. */
	if (info->dlpi_addr)
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		uint32_t start = info->dlpi_phdr[i].p_vaddr;
		uint32_t size = info->dlpi_phdr[i].p_memsz;

		if (info->dlpi_phdr[i].p_type != PT_LOAD || !size)
			continue;
		if (start < vm->mem_size)
			lg_fatal("segment at %#x inside guest memory: not static non-PIE?",
				 start);
		lg_map_segment(vm, start, start + size,
			       info->dlpi_phdr[i].p_flags & PF_W);
	}
	return 1;
}

/*
 * Create a guest of @mem_size bytes (0: LG_DEFAULT_MEM_SIZE) that will run
 * @guest_code at CPL 1.  Exits the test with KSFT_SKIP if /dev/lguest does
 * not exist (tests should check lg_dev_present() first, for a reason in
 * the log), and with a failure on any other error.
 */
struct lg_vm *lg_vm_create(size_t mem_size, void (*guest_code)(void))
{
	struct lguest_init init = { 0 };
	struct lguest_regs regs;
	struct lg_vm *vm;
	uint32_t gpa, entry_gpa;
	int i;

	if (!mem_size)
		mem_size = LG_DEFAULT_MEM_SIZE;
	if (mem_size & ~LG_PAGE_MASK || mem_size > LGUEST_MAX_MEM_SIZE)
		lg_fatal("bad guest memory size %#zx", mem_size);

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		lg_fatal("out of memory");
	vm->fd = open(LG_DEV, O_RDWR | O_CLOEXEC);
	if (vm->fd < 0 && errno == ENOENT) {
		printf("# SKIP %s does not exist (lg.ko not loaded?)\n",
		       LG_DEV);
		fflush(stdout);
		_exit(KSFT_SKIP);
	}
	if (vm->fd < 0)
		lg_fatal("open %s: %s", LG_DEV, strerror(errno));

	vm->mem_size = mem_size;
	vm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED)
		lg_fatal("mmap %#zx bytes: %s", mem_size, strerror(errno));

	/* Page 0 stays unused and unmapped; see the layout in the header. */
	vm->next_page = LG_PAGE_SIZE;
	vm->pool_start = mem_size - LG_GUEST_POOL_PAGES * LG_PAGE_SIZE;
	if (mem_size <= (LG_GUEST_POOL_PAGES + 16) * LG_PAGE_SIZE)
		lg_fatal("guest memory size %#zx too small", mem_size);

	for (i = 0; i < LG_STACK_PAGES; i++)
		lg_vm_alloc_page(vm);
	vm->info.stack_top = vm->next_page;
	vm->info.trap_stack_top = lg_vm_alloc_page(vm) + LG_PAGE_SIZE;
	vm->info.lguest_data = lg_vm_alloc_page(vm);
	vm->pgdir = lg_vm_alloc_page(vm);
	vm->info.pgdir = vm->pgdir;
	vm->info.mem_size = mem_size;
	vm->info.pool_next = vm->pool_start;
	vm->info.pool_end = mem_size;

	/* Identity map all of guest memory but page 0. */
	for (gpa = LG_PAGE_SIZE; gpa < mem_size; gpa += LG_PAGE_SIZE)
		lg_vm_map(vm, gpa, gpa, LG_PTE_RW);

	/* This program, at its link addresses; guest code is in there. */
	if (!dl_iterate_phdr(lg_map_phdr, vm))
		lg_fatal("no program headers found");

	lg_copy_to_guest(vm, (uint32_t)(uintptr_t)&lg_guest_info, &vm->info,
			 sizeof(vm->info));

	/*
	 * LGUEST_INIT wants the entry point as a guest-physical address; the
	 * guest really starts at the virtual address set below.
	 */
	entry_gpa = lg_gva2gpa(vm, (uint32_t)(uintptr_t)lg_guest_start);
	init.mem_addr = (uintptr_t)vm->mem;
	init.mem_size = mem_size;
	init.entry = entry_gpa;
	init.cr3 = vm->pgdir;
	if (ioctl(vm->fd, LGUEST_INIT, &init) < 0)
		lg_fatal("LGUEST_INIT: %s", strerror(errno));

	lg_get_regs(vm, &regs);
	regs.eip = (uint32_t)(uintptr_t)lg_guest_start;
	regs.esp = vm->info.stack_top;
	regs.ebp = 0;
	regs.ebx = (uint32_t)(uintptr_t)guest_code;
	lg_set_regs(vm, &regs);
	return vm;
}

void lg_vm_free(struct lg_vm *vm)
{
	if (!vm)
		return;
	close(vm->fd);
	munmap(vm->mem, vm->mem_size);
	free(vm);
}

/* ---- guest side ---- */

struct lg_guest_info lg_guest_info GUEST_DATA;

/* C handlers for lg_trap_stubs, by vector. */
static lg_trap_handler_t guest_trap_handlers[LG_NR_VECTORS] GUEST_DATA;

/*
 * Called by lg_trap_common for every trap.  A vector without a C handler
 * is reported to the launcher as an assertion failure rather than
 * returning into the same fault forever.
 */
GUEST_CODE void guest_trap_dispatch(struct lg_trap_frame *frame)
{
	lg_trap_handler_t handler = NULL;

	if (frame->vector < LG_NR_VECTORS)
		handler = guest_trap_handlers[frame->vector];
	__GUEST_ASSERT(handler, "unexpected trap %u, error %#x at %#x",
		       frame->vector, frame->error_code, frame->eip);
	handler(frame);
}

GUEST_CODE void guest_ucall(uint32_t cmd, const char *file, uint32_t line,
			    const char *expr, const char *fmt,
			    const uint32_t *args)
{
	struct lg_guest_ucall uc;
	int i;

	uc.cmd = cmd;
	uc.line = line;
	uc.file = (uint32_t)(uintptr_t)file;
	uc.expr = (uint32_t)(uintptr_t)expr;
	uc.fmt = (uint32_t)(uintptr_t)fmt;
	for (i = 0; i < LG_UCALL_NR_ARGS; i++)
		uc.args[i] = args ? args[i] : 0;

	/*
	 * A failed assertion or a finished guest must not go on: report the
	 * same thing again on every later run.
	 */
	do {
		lg_hcall(LG_HCALL_UCALL, (uint32_t)(uintptr_t)&uc, 0, 0, 0);
	} while (cmd == UCALL_ABORT || cmd == UCALL_DONE);
}

/*
 * Collect the 32-bit arguments of @fmt, as many as it has conversions, so
 * that the launcher can format it.
 */
GUEST_CODE void guest_ucall_fmt(uint32_t cmd, const char *file, uint32_t line,
				const char *expr, const char *fmt, ...)
{
	uint32_t args[LG_UCALL_NR_ARGS] = { 0 };
	const char *p;
	va_list ap;
	int n = 0;

	va_start(ap, fmt);
	for (p = fmt; p && *p && n < LG_UCALL_NR_ARGS; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		args[n++] = va_arg(ap, uint32_t);
	}
	va_end(ap);
	guest_ucall(cmd, file, line, expr, fmt, args);
}

/* lg_guest_start calls this when guest_code() returns. */
GUEST_CODE void guest_code_returned(void)
{
	GUEST_DONE();
}

/* Load IDT entry @vector with a 32-bit gate to @addr in the kernel CS. */
GUEST_CODE void guest_set_idt_gate(unsigned int vector, uint32_t addr,
				   unsigned int dpl, unsigned int type)
{
	uint32_t lo = (LG_KERNEL_CS << 16) | (addr & 0xffff);
	uint32_t hi = (addr & 0xffff0000) | 0x8000 | (dpl & 3) << 13 |
		      (type & 0xf) << 8;

	lg_hcall(LHCALL_LOAD_IDT_ENTRY, vector, lo, hi, 0);
}

/*
 * Route @vector to the C function @handler through its stub in
 * lg_trap_stubs.  A trap gate: the tiny guests never enable interrupts,
 * so there is nothing for an interrupt gate to mask.
 */
GUEST_CODE void guest_set_idt(unsigned int vector, lg_trap_handler_t handler,
			      unsigned int dpl)
{
	guest_trap_handlers[vector] = handler;
	guest_set_idt_gate(vector, (uint32_t)(uintptr_t)lg_trap_stubs +
			   vector * LG_TRAP_STUB_SIZE, dpl, LG_GATE_TRAP);
}

/* The stack the host switches to for a trap from CPL 3. */
GUEST_CODE void guest_set_trap_stack(void)
{
	lg_hcall(LHCALL_SET_STACK, LG_KERNEL_DS, lg_guest_info.trap_stack_top,
		 1, 0);
}

/* Register the lguest_data page (identity mapped) with the host. */
GUEST_CODE struct lguest_data *guest_lguest_init(void)
{
	lg_hcall(LHCALL_LGUEST_INIT, lg_guest_info.lguest_data, 0, 0, 0);
	return (struct lguest_data *)(uintptr_t)lg_guest_info.lguest_data;
}

/* A zeroed page from the guest's own pool; guest-physical == virtual. */
GUEST_CODE uint32_t guest_alloc_page(void)
{
	uint32_t page = lg_guest_info.pool_next;
	uint32_t *p = (uint32_t *)(uintptr_t)page;
	uint32_t n = LG_PAGE_SIZE / 4;

	GUEST_ASSERT(page < lg_guest_info.pool_end);
	lg_guest_info.pool_next += LG_PAGE_SIZE;
	/* rep stos rather than a loop gcc might turn into memset(). */
	asm volatile("rep stosl" : "+D" (p), "+c" (n) : "a" (0) : "memory");
	return page;
}

/* The guest's PTE for @vaddr, or NULL if it has no page table. */
GUEST_CODE uint32_t *guest_pte(uint32_t vaddr)
{
	uint32_t *pgd = (uint32_t *)(uintptr_t)lg_guest_info.pgdir;
	uint32_t pde = pgd[vaddr >> 22];

	if (!(pde & LG_PTE_P))
		return NULL;
	return &((uint32_t *)(uintptr_t)(pde & LG_PAGE_MASK))[(vaddr >> 12) & 1023];
}

/*
 * Map @vaddr to @paddr in the guest's own page tables, with a page table
 * from the pool if needed.  Only guest memory changes: telling the host
 * (LHCALL_SET_PTE, LHCALL_SET_PGD, LHCALL_FLUSH_TLB) is up to the caller,
 * which is what the paging tests are about.  Returns true if a new page
 * table was needed.
 */
GUEST_CODE bool guest_map_page(uint32_t vaddr, uint32_t paddr, uint32_t flags)
{
	uint32_t *pgd = (uint32_t *)(uintptr_t)lg_guest_info.pgdir;
	uint32_t *pde = &pgd[vaddr >> 22];
	bool new_pt = false;

	if (!(*pde & LG_PTE_P)) {
		*pde = guest_alloc_page() | LG_PTE_P | LG_PTE_RW | LG_PTE_U;
		new_pt = true;
	}
	*guest_pte(vaddr) = (paddr & LG_PAGE_MASK) |
			    (flags & ~LG_PAGE_MASK) | LG_PTE_P;
	return new_pt;
}

/*
 * For a trap handler that caught a trap from CPL 3: return from the trap
 * into guest_enter_user()'s caller, at CPL 1, which gets @value.
 */
GUEST_CODE void guest_return_from_user(struct lg_trap_frame *frame,
				       uint32_t value)
{
	frame->eip = (uint32_t)(uintptr_t)lg_user_return;
	frame->cs = LG_KERNEL_CS;
	frame->ds = LG_KERNEL_DS;
	frame->es = LG_KERNEL_DS;
	frame->eax = value;
}
