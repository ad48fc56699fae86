// SPDX-License-Identifier: GPL-2.0-only
/*
 * Booting Linux as an lguest guest.
 *
 * This kernel runs in ring 1, under a host that gave it memory and nothing
 * else: no BIOS, no APIC, no PIC, no PIT, no PCI.  Everything a native kernel
 * does with privileged instructions it does here through paravirt ops that
 * ask the host by hypercall, or that need no host at all.  The journey
 * starts in head_32.S (lguest_entry), which builds the usual initial page
 * table and calls lguest_init() below; that installs the ops and joins the
 * ordinary 32-bit start-up in i386_start_kernel().
 *
 * The ops are split by subsystem as Xen's are: the CPU here, the MMU in
 * mmu.c, interrupts in irq.c, time in time.c, the console in console.c,
 * and the batching of hypercalls in hcall.c.
 */
#include <linux/cpufeature.h>
#include <linux/init.h>
#include <linux/kdebug.h>
#include <linux/kernel.h>
#include <linux/lguest.h>
#include <linux/notifier.h>
#include <linux/panic_notifier.h>
#include <linux/pgtable.h>
#include <linux/pm.h>
#include <linux/processor.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/start_kernel.h>
#include <asm/bootparam.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fixmap.h>
#include <asm/insn.h>
#include <asm/io_bitmap.h>
#include <asm/paravirt.h>
#include <asm/reboot.h>
#include <asm/setup.h>
#include <asm/text-patching.h>
#include <asm/traps.h>
#include <asm/x86_init.h>
#include "lguest.h"

/*
 * The page we share with the host.  Every line starts masked (the irq_chip
 * unmasks the ones with a handler) and the asynchronous ring empty.
 */
struct lguest_data lguest_data __aligned(PAGE_SIZE) = {
	.blocked_interrupts = { [0 ... LGUEST_DATA_NR_IRQS / 32 - 1] = ~0u },
	.noirq_iret = (u32)lguest_noirq_iret,
	.kernel_address = PAGE_OFFSET,
	.dr6 = DR6_RESERVED,
	.hcall_status = { [0 ... LHCALL_RING_SIZE - 1] = LHCALL_STATUS_DONE },
};

/* Read by entry_32.S: iret goes to lguest_iret before alternatives can say so. */
u8 lguest_booted __ro_after_init;

/*
 * cpuid: what the CPU has, less what a ring-1 guest cannot use.  No SEP
 * (SYSENTER would enter ring 0's selector), no PSE or PAE (the host
 * shadows 4 KiB, 2-level tables), no APIC, MTRR, PAT, MCE or XSAVE, no
 * leaves beyond 5 that we have not vetted.  PGE we claim although we
 * cannot set CR4: it makes Linux tell user TLB flushes from kernel ones.
 * And we say we are a guest.
 */
#define LGUEST_CPUID1_EDX	(BIT(0) | BIT(4) | BIT(8) | BIT(15) | BIT(19) | \
				 BIT(23) | BIT(24) | BIT(25) | BIT(26))
#define LGUEST_CPUID1_ECX	(BIT(0) | BIT(9) | BIT(13))

static void lguest_cpuid(unsigned int *ax, unsigned int *bx,
			 unsigned int *cx, unsigned int *dx)
{
	unsigned int leaf = *ax;

	native_cpuid(ax, bx, cx, dx);
	switch (leaf) {
	case 0:
		*ax = min(*ax, 5u);
		break;
	case 1:
		*cx = (*cx & LGUEST_CPUID1_ECX) | BIT(31);
		*dx = (*dx & LGUEST_CPUID1_EDX) | BIT(13);
		/*
		 * The real family and model: what the guest's vulnerabilities
		 * and mitigations depend on.  The raw MSR accesses Linux makes
		 * from family 6 up trap in ring 1; the host emulates them as
		 * our MSR operations below behave.
		 */
		break;
	case 5:
		*ax = *bx = *cx = *dx = 0;
		break;
	case 0x80000000:
		*ax = min(*ax, 0x80000008u);
		break;
	case 0x80000001:
		*cx = 0;
		*dx = 0;
		break;
	default:
		if (leaf >= 0x40000000 && leaf < 0x80000000)
			*ax = *bx = *cx = *dx = 0;
		break;
	}
}

/*
 * No MSRs: reads give 0, writes vanish, and the _safe variants say the MSR
 * is not there, which is what careful callers check.
 */
static u64 lguest_read_msr(unsigned int msr)
{
	return 0;
}

static void lguest_write_msr(unsigned int msr, unsigned int low,
			     unsigned int high)
{
}

static u64 lguest_read_msr_safe(unsigned int msr, int *err)
{
	*err = -EIO;
	return 0;
}

static int lguest_write_msr_safe(unsigned int msr, unsigned int low,
				 unsigned int high)
{
	return -EIO;
}

static u64 lguest_read_pmc(int counter)
{
	return 0;
}

/* Control and debug registers belong to the host; we keep what we wrote. */
static unsigned long current_cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET |
				   X86_CR0_NE | X86_CR0_WP | X86_CR0_AM |
				   X86_CR0_PG;

static unsigned long lguest_read_cr0(void)
{
	return current_cr0;
}

static void lguest_write_cr0(unsigned long val)
{
	current_cr0 = val;
}

static void lguest_write_cr4(unsigned long val)
{
}

/*
 * Debug registers: the host loads our breakpoints (DR0-DR3 and DR7, which
 * it checks) while we run, and puts the processor's DR6 in lguest_data
 * when it gives us a #DB, for our handler to read.  We keep what we
 * wrote, to read it back.
 */
static unsigned long lguest_debugreg[8];

static unsigned long lguest_get_debugreg(int regno)
{
	if (regno == 6)
		return lguest_data.dr6;
	return regno < 4 || regno == 7 ? lguest_debugreg[regno] : 0;
}

static void lguest_set_debugreg(int regno, unsigned long value)
{
	if (regno == 6) {
		lguest_data.dr6 = value;
		return;
	}
	if (regno >= 4 && regno != 7)
		return;
	lguest_debugreg[regno] = value;
	hcall(LHCALL_SET_DEBUGREG, regno, value, 0, 0);
}

/* The host owns the TSS: its selector is all we can say about it. */
static unsigned long lguest_store_tr(void)
{
	return GDT_ENTRY_TSS * 8;
}

/*
 * Descriptor tables live in the host, which checks every entry.  The TSS
 * and LDT descriptors are not ours to give it; neither is the double-fault
 * task gate, nor the hypercall vector.  Our handlers run in ring 1, so the
 * host wants that in the selectors.
 */
static void lguest_load_gdt_entry(unsigned int i, const struct desc_struct *d)
{
	if (d->p && !d->s)
		return;
	hcall(LHCALL_LOAD_GDT_ENTRY, i, ((const u32 *)d)[0],
	      ((const u32 *)d)[1], 0);
}

static void lguest_load_gdt(const struct desc_ptr *desc)
{
	const struct desc_struct *gdt = (const void *)desc->address;
	unsigned int i;

	for (i = 0; i < (desc->size + 1) / 8; i++)
		lguest_load_gdt_entry(i, &gdt[i]);
}

static void lguest_write_gdt_entry(struct desc_struct *dt, int entry,
				   const void *desc, int type)
{
	native_write_gdt_entry(dt, entry, desc, type);
	lguest_load_gdt_entry(entry, &dt[entry]);
}

static void lguest_load_idt_entry(unsigned int vector, const gate_desc *g)
{
	gate_desc gate = *g;
	u32 raw[2];

	if (vector == X86_TRAP_DF || vector == LGUEST_TRAP_ENTRY)
		return;
	if (gate.bits.p && gate.bits.type != GATE_INTERRUPT &&
	    gate.bits.type != GATE_TRAP)
		return;
	if (gate.bits.p) {
		gate.segment = __KERNEL_CS | 1;
		/* The system call gate gets our entry: see head_32.S. */
		if (vector == IA32_SYSCALL_VECTOR) {
			gate.offset_low = (u16)(unsigned long)lguest_entry_INT80;
			gate.offset_middle = (unsigned long)lguest_entry_INT80 >> 16;
		}
	}
	memcpy(raw, &gate, sizeof(raw));
	hcall(LHCALL_LOAD_IDT_ENTRY, vector, raw[0], raw[1], 0);
}

static void lguest_load_idt(const struct desc_ptr *desc)
{
	const gate_desc *idt = (const void *)desc->address;
	unsigned int i;

	for (i = 0; i < (desc->size + 1) / sizeof(gate_desc); i++)
		lguest_load_idt_entry(i, &idt[i]);
}

static void lguest_write_idt_entry(gate_desc *dt, int entry,
				   const gate_desc *g)
{
	native_write_idt_entry(dt, entry, g);
	lguest_load_idt_entry(entry, g);
}

/*
 * Thread-local storage: three GDT entries the host copies from the
 * thread.  %gs may name one of them, and keeps it: a user's %gs lives on
 * in the kernel on 32-bit, and set_thread_area() relies on that.  The
 * switcher reloads %gs from the new entry when it next enters the guest,
 * or loads 0 if the entry is gone, as loadsegment() would.
 *
 * The host keeps the entries it was last given (host_tls is what it has):
 * a kernel thread, which never runs in user mode and has no TLS, leaves
 * them alone, and so the process it interrupted, whose %gs may still name
 * one, finds them there when it runs again, with nothing to tell the host.
 */
static DEFINE_PER_CPU(struct desc_struct[GDT_ENTRY_TLS_ENTRIES], host_tls);

static void lguest_load_tls(struct thread_struct *t, unsigned int cpu)
{
	struct task_struct *task = container_of(t, struct task_struct, thread);
	struct desc_struct *host = per_cpu(host_tls, cpu);

	native_load_tls(t, cpu);
	if ((task->flags & PF_KTHREAD) ||
	    !memcmp(host, t->tls_array, sizeof(t->tls_array)))
		return;
	memcpy(host, t->tls_array, sizeof(t->tls_array));
	lazy_hcall(LHCALL_LOAD_TLS, __pa(&t->tls_array), 0, 0);
}

static void lguest_noop(void)
{
}

/*
 * The LDT: the host takes a checked copy, as it does of GDT entries, and
 * the CPU uses that.  Linux never changes an LDT it has installed (a
 * modify_ldt() installs a new one), so one call per load is enough; and
 * only switches to or from a process with an LDT make it.
 */
static void lguest_set_ldt(const void *addr, unsigned int entries)
{
	lazy_hcall(LHCALL_SET_LDT, (unsigned long)addr, entries, 0);
}

#ifdef CONFIG_X86_IOPL_IOPERM
/*
 * Ports a user process may use (ioperm(), iopl()): the host gets the
 * bitmap a native kernel would put in its TSS, and answers "in" and "out"
 * on those ports itself, as a PC with nothing there would.
 *
 * Every return to user mode of such a process comes here, not only
 * switches to it: natively that costs a compare of sequence numbers, and
 * so it must here.  We remember what the host was last told and only
 * tell it again when that changed (ioperm() gives a changed bitmap a new
 * sequence number); otherwise each system call of the process would
 * cost a hypercall.
 */
struct lguest_io_bitmap {
	unsigned long addr;
	unsigned long bytes;
	u64 sequence;
};

static DEFINE_PER_CPU(struct lguest_io_bitmap, lguest_io_told);

static void lguest_set_io_bitmap(unsigned long addr, unsigned long bytes,
				 u64 sequence)
{
	struct lguest_io_bitmap *told = this_cpu_ptr(&lguest_io_told);

	if (told->addr == addr && told->bytes == bytes &&
	    told->sequence == sequence)
		return;
	told->addr = addr;
	told->bytes = bytes;
	told->sequence = sequence;
	lazy_hcall(LHCALL_SET_IO_BITMAP, addr, bytes, 0);
}

static void lguest_update_io_bitmap(void)
{
	struct thread_struct *t = &current->thread;

	if (!test_thread_flag(TIF_IO_BITMAP))
		lguest_set_io_bitmap(0, 0, 0);
	else if (t->iopl_emul == 3)
		lguest_set_io_bitmap(0, LGUEST_IO_ALL, 0);
	else if (t->io_bitmap)
		lguest_set_io_bitmap(__pa(t->io_bitmap->bitmap),
				     t->io_bitmap->max, t->io_bitmap->sequence);
	else
		lguest_set_io_bitmap(0, 0, 0);
}

static void lguest_invalidate_io_bitmap(void)
{
	lguest_set_io_bitmap(0, 0, 0);
}
#endif

void __init lguest_init_cpu_ops(void)
{
	pv_info.name = "lguest";

	pv_ops.cpu.cpuid = lguest_cpuid;
	pv_ops.cpu.read_msr = lguest_read_msr;
	pv_ops.cpu.write_msr = lguest_write_msr;
	pv_ops.cpu.read_msr_safe = lguest_read_msr_safe;
	pv_ops.cpu.write_msr_safe = lguest_write_msr_safe;
	pv_ops.cpu.read_pmc = lguest_read_pmc;
	pv_ops.cpu.read_cr0 = lguest_read_cr0;
	pv_ops.cpu.write_cr0 = lguest_write_cr0;
	pv_ops.cpu.write_cr4 = lguest_write_cr4;
	pv_ops.cpu.get_debugreg = lguest_get_debugreg;
	pv_ops.cpu.set_debugreg = lguest_set_debugreg;
	pv_ops.cpu.load_tr_desc = lguest_noop;
	pv_ops.cpu.store_tr = lguest_store_tr;
	pv_ops.cpu.load_gdt = lguest_load_gdt;
	pv_ops.cpu.write_gdt_entry = lguest_write_gdt_entry;
	pv_ops.cpu.load_idt = lguest_load_idt;
	pv_ops.cpu.write_idt_entry = lguest_write_idt_entry;
	pv_ops.cpu.load_tls = lguest_load_tls;
	pv_ops.cpu.set_ldt = lguest_set_ldt;
#ifdef CONFIG_X86_IOPL_IOPERM
	pv_ops.cpu.update_io_bitmap = lguest_update_io_bitmap;
	pv_ops.cpu.invalidate_io_bitmap = lguest_invalidate_io_bitmap;
#endif
	pv_ops.cpu.wbinvd = lguest_noop;
	pv_ops.cpu.io_delay = lguest_noop;
	pv_ops.cpu.start_context_switch = lguest_start_context_switch;
	pv_ops.cpu.end_context_switch = lguest_end_context_switch;
}

/*
 * Port I/O.  There are no ports here: in ring 1 an in or out instruction
 * traps, and the host hands us the #GP.  Drivers that probe legacy ports
 * (the 8250 serial driver does) should find nothing there, as on a
 * machine without the device: reads give all ones, writes vanish.
 */
static int lguest_emulate_port_io(struct pt_regs *regs)
{
	struct insn insn;
	unsigned long mask;
	u8 op;

	if (insn_decode_kernel(&insn, (void *)regs->ip))
		return NOTIFY_DONE;
	op = insn.opcode.bytes[0];
	if (insn.opcode.nbytes != 1 || op < 0xe4 || op > 0xef ||
	    (op > 0xe7 && op < 0xec))
		return NOTIFY_DONE;
	if (!(op & 2)) {	/* in */
		mask = (op & 1) ? (insn.opnd_bytes == 2 ? 0xffff : ~0ul) : 0xff;
		regs->ax |= mask;
	}
	regs->ip += insn.length;
	return NOTIFY_STOP;
}

static int lguest_gp_notify(struct notifier_block *nb, unsigned long val,
			    void *data)
{
	struct die_args *args = data;

	if (val != DIE_GPF || user_mode(args->regs))
		return NOTIFY_DONE;
	return lguest_emulate_port_io(args->regs);
}

static struct notifier_block lguest_gp_nb = {
	.notifier_call = lguest_gp_notify,
};

/* How the guest ends: the launcher's exit status tells which. */
static void __noreturn lguest_shutdown(u32 type)
{
	for (;;)
		hcall(LHCALL_SHUTDOWN, type, 0, 0, 0);
}

static void lguest_power_off(void)
{
	lguest_shutdown(LGUEST_SHUTDOWN_POWEROFF);
}

static void lguest_restart(char *reason)
{
	lguest_shutdown(LGUEST_SHUTDOWN_RESTART);
}

static void lguest_emergency_restart(void)
{
	lguest_shutdown(LGUEST_SHUTDOWN_RESTART);
}

static int lguest_panic(struct notifier_block *nb, unsigned long event,
			void *unused)
{
	hcall(LHCALL_SHUTDOWN, LGUEST_SHUTDOWN_CRASH, 0, 0, 0);
	return NOTIFY_DONE;
}

static struct notifier_block lguest_panic_nb = {
	.notifier_call = lguest_panic,
	/* After everyone else has had their say on the console. */
	.priority = INT_MIN,
};

static void __init lguest_init_platform(void)
{
	/* No BIOS, no ROMs, no real-mode trampoline, no legacy devices. */
	x86_init.resources.probe_roms = x86_init_noop;
	x86_platform.realmode_reserve = x86_init_noop;
	x86_platform.realmode_init = x86_init_noop;
	x86_platform.legacy.rtc = 0;
	x86_platform.legacy.warm_reset = 0;
	x86_platform.legacy.reserve_bios_regions = 0;
	x86_platform.legacy.i8042 = X86_LEGACY_I8042_PLATFORM_ABSENT;

	/* One virtual CPU. */
	setup_max_cpus = 0;

	pm_power_off = lguest_power_off;
	machine_ops.restart = lguest_restart;
	machine_ops.emergency_restart = lguest_emergency_restart;
	atomic_notifier_chain_register(&panic_notifier_list, &lguest_panic_nb);
	register_die_notifier(&lguest_gp_nb);
}

/* Until alternatives are applied: see lguest_cmpxchg8b_emu in head_32.S. */
static void __init lguest_patch_cmpxchg8b_emu(void)
{
	u8 jmp[JMP32_INSN_SIZE] = { JMP32_INSN_OPCODE };
	s32 rel = (long)lguest_cmpxchg8b_emu -
		  ((long)this_cpu_cmpxchg8b_emu + JMP32_INSN_SIZE);

	memcpy(&jmp[1], &rel, sizeof(rel));
	text_poke_early(this_cpu_cmpxchg8b_emu, jmp, sizeof(jmp));
}

/*
 * Called from head_32.S, on the kernel's page tables, at PAGE_OFFSET.  The
 * ops go in first: even a printk() turns interrupts off and on.
 */
asmlinkage __visible void __init lguest_init(void)
{
	lguest_booted = 1;
	setup_force_cpu_cap(X86_FEATURE_LGUEST);
	setup_force_cpu_cap(X86_FEATURE_HYPERVISOR);
	/* We cannot run the native iret, so the espfix dance is moot. */
	setup_clear_cpu_cap(X86_BUG_ESPFIX);

	lguest_init_cpu_ops();
	lguest_init_mmu_ops();
	lguest_init_irq_ops();
	lguest_init_time();
	lguest_init_console();
	lguest_init_platform();
	lguest_patch_cmpxchg8b_emu();

	/* The switcher lives at the top: keep the fixmap below it. */
	reserve_top_address(lguest_data.reserve_mem);

	/* Traps from user mode will use init's stack until the first switch. */
	hcall(LHCALL_SET_STACK, __KERNEL_DS | 1, init_task.thread.sp0,
	      THREAD_SIZE / PAGE_SIZE, 0);

	i386_start_kernel();
}
