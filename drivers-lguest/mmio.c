// SPDX-License-Identifier: GPL-2.0-only
/*
 * Devices: MMIO windows, instruction decoding and eventfd kicks.
 *
 * A guest's devices live in the launcher: virtio-mmio devices, each a page
 * of registers just above guest memory, which the guest's stock virtio
 * drivers find on their command line.  The launcher tells us where they are
 * with LGUEST_ADD_MMIO_WINDOW.  Those addresses are not memory, so nothing
 * ever maps them in a shadow page table: every guest access to a device
 * register faults, and lguest_demand_page() hands the fault to us.
 *
 * The guest's readl() and writel() are single "mov" instructions.  We
 * decode the few forms Linux compiles them to, step the guest past the
 * instruction, and give the launcher a structured exit, LGUEST_EXIT_MMIO:
 * address, size, direction and, for a write, the value.  For a read the
 * launcher hands the value back with its next LGUEST_RUN, and we put it in
 * the register the instruction named (lguest_mmio_complete()).
 *
 * One write is special: the one that says "I put buffers in queue N".  If
 * each of those went out to the launcher's run loop, the guest would wait
 * for a round trip through user space on every disk request and packet.
 * So the launcher binds (address, value) pairs to eventfds
 * (LGUEST_IOEVENTFD), its device threads wait on them, and a matching write
 * signals the eventfd and lets the guest carry on at once, as KVM's
 * ioeventfd does.
 *
 * Anything else at those addresses, or anywhere else beyond guest memory,
 * kills the guest with a reason: a device access we cannot decode is a
 * guest bug, and pretending it succeeded would only hide it.
 */
#include <linux/eventfd.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/uaccess.h>
#include <asm/desc.h>
#include <asm/trap_pf.h>

#include "lg.h"

#define LG_MAX_INSN	15	/* the longest x86 instruction */

/**
 * struct lg_ioeventfd - a write that signals an eventfd instead of exiting
 * @list:	in lguest.ioeventfds
 * @addr:	guest-physical address of the write
 * @len:	its size in bytes
 * @match_data:	only writes of @datamatch count
 * @datamatch:	the value, if @match_data
 * @ctx:	the eventfd to signal
 */
struct lg_ioeventfd {
	struct list_head list;
	u64 addr;
	u32 len;
	bool match_data;
	u32 datamatch;
	struct eventfd_ctx *ctx;
};

/**
 * struct lg_insn - a decoded guest instruction that touches memory
 * @len:	its length in bytes
 * @size:	bytes it reads or writes: 1, 2 or 4
 * @opsize:	its operand size, for the register it loads: 2 or 4
 * @write:	whether it writes memory
 * @zero_extend: a read that zero-extends into the register (movzx)
 * @reg:	the register operand (x86 numbering), or -1 for an immediate
 * @imm:	the immediate a write stores, if @reg is -1
 * @ea:		the effective address of its memory operand
 * @stack:	@ea is based on %esp or %ebp, so relative to %ss, not %ds
 */
struct lg_insn {
	unsigned int len, size, opsize;
	bool write, zero_extend;
	int reg;
	u32 imm, ea;
	bool stack;
};

/* Reads the instruction at the guest's %eip, a page at a time. */
struct lg_insn_reader {
	struct lguest *lg;
	u8 bytes[LG_MAX_INSN];
	unsigned int have, pos;
};

/* The next byte of the instruction, or -1 if the guest cannot have it. */
static int lg_next_byte(struct lg_insn_reader *rd)
{
	u32 eip = rd->lg->regs.eip + rd->have, gpa, n;

	if (rd->pos == rd->have) {
		if (rd->have == LG_MAX_INSN ||
		    !lguest_gva_to_gpa(rd->lg, eip, false, &gpa))
			return -1;
		n = min_t(u32, LG_MAX_INSN - rd->have,
			  PAGE_SIZE - offset_in_page(eip));
		if (!lg_read(rd->lg, gpa, rd->bytes + rd->have, n))
			return -1;
		rd->have += n;
	}
	return rd->bytes[rd->pos++];
}

static bool lg_next_u32(struct lg_insn_reader *rd, unsigned int bytes,
			u32 *val)
{
	unsigned int i;
	int b;

	*val = 0;
	for (i = 0; i < bytes; i++) {
		b = lg_next_byte(rd);
		if (b < 0)
			return false;
		*val |= (u32)b << (8 * i);
	}
	return true;
}

/* General register n, in the order of x86 instruction encodings. */
static u32 *lg_gpr(struct lguest_regs *r, unsigned int n)
{
	switch (n & 7) {
	case 0: return &r->eax;
	case 1: return &r->ecx;
	case 2: return &r->edx;
	case 3: return &r->ebx;
	case 4: return &r->esp;
	case 5: return &r->ebp;
	case 6: return &r->esi;
	default: return &r->edi;
	}
}

/* The displacement of a ModRM operand: none, 8 bits signed or 32 bits. */
static bool lg_decode_disp(struct lg_insn_reader *rd, unsigned int mod,
			   u32 *disp)
{
	if (mod == 1) {
		if (!lg_next_u32(rd, 1, disp))
			return false;
		*disp = (u32)(s8)*disp;
		return true;
	}
	if (mod == 2)
		return lg_next_u32(rd, 4, disp);
	*disp = 0;
	return true;
}

/*
 * The memory operand of a ModRM byte, 32-bit addressing: base, scaled
 * index and displacement.  Register-only operands (mod 3) cannot fault on
 * memory, so they are no MMIO access.
 */
static bool lg_decode_modrm(struct lg_insn_reader *rd, struct lg_insn *in,
			    unsigned int *regfield)
{
	struct lguest_regs *r = &rd->lg->regs;
	unsigned int mod, rm, scale, index, base;
	int modrm, sib;
	u32 disp;

	modrm = lg_next_byte(rd);
	if (modrm < 0 || modrm >> 6 == 3)
		return false;
	mod = modrm >> 6;
	rm = modrm & 7;
	*regfield = (modrm >> 3) & 7;

	in->ea = 0;
	if (rm == 4) {
		sib = lg_next_byte(rd);
		if (sib < 0)
			return false;
		scale = sib >> 6;
		index = (sib >> 3) & 7;
		base = sib & 7;
		if (index != 4)
			in->ea = *lg_gpr(r, index) << scale;
		rm = base;	/* the base register, as if in ModRM */
	}
	if (rm == 5 && mod == 0) {	/* no base: a 32-bit displacement */
		if (!lg_next_u32(rd, 4, &disp))
			return false;
		in->ea += disp;
		return true;
	}
	in->ea += *lg_gpr(r, rm);
	in->stack = rm == 4 || rm == 5;
	if (!lg_decode_disp(rd, mod, &disp))
		return false;
	in->ea += disp;
	return true;
}

/* mov with a ModRM operand: 88/89 store, 8a/8b load, c6/c7 immediate. */
static bool lg_decode_mov(struct lg_insn_reader *rd, struct lg_insn *in,
			  int op)
{
	unsigned int regfield;

	in->size = op & 1 ? in->opsize : 1;
	if (!lg_decode_modrm(rd, in, &regfield))
		return false;
	switch (op) {
	case 0x88:
	case 0x89:
		in->write = true;
		in->reg = regfield;
		return true;
	case 0x8a:
	case 0x8b:
		in->reg = regfield;
		return true;
	}
	/* c6 /0 and c7 /0: the immediate follows the operand. */
	in->write = true;
	in->reg = -1;
	return regfield == 0 && lg_next_u32(rd, in->size, &in->imm);
}

/*
 * Decode the instruction at the guest's %eip, if it is one of the forms
 * of "mov" that readb/w/l and writeb/w/l are made of (plus movzx, the
 * immediate stores and the moffs forms, which compilers also emit).  No
 * prefix but the operand-size one: a segment override, a lock or a rep is
 * not something a device access is made of.
 */
static bool lg_decode(struct lguest *lg, struct lg_insn *in)
{
	struct lg_insn_reader rd = { .lg = lg };
	unsigned int regfield;
	int op;

	memset(in, 0, sizeof(*in));
	in->opsize = 4;
	op = lg_next_byte(&rd);
	if (op == 0x66) {
		in->opsize = 2;
		op = lg_next_byte(&rd);
	}
	switch (op) {
	case 0x88 ... 0x8b:
	case 0xc6:
	case 0xc7:
		if (!lg_decode_mov(&rd, in, op))
			return false;
		break;
	case 0x0f:
		op = lg_next_byte(&rd);
		if (op != 0xb6 && op != 0xb7)
			return false;
		in->size = op == 0xb6 ? 1 : 2;
		in->zero_extend = true;
		if (!lg_decode_modrm(&rd, in, &regfield))
			return false;
		in->reg = regfield;
		break;
	case 0xa0 ... 0xa3:	/* mov between %al/%ax/%eax and moffs */
		in->size = op & 1 ? in->opsize : 1;
		in->write = op & 2;
		in->reg = 0;
		if (!lg_next_u32(&rd, 4, &in->ea))
			return false;
		break;
	default:
		return false;
	}
	in->len = rd.pos;
	return true;
}

/* Is this selector a present GDT segment with base 0 (and 32-bit code)? */
static bool lg_seg_flat(struct lguest *lg, u32 sel, bool code)
{
	unsigned int index = sel >> 3;
	const struct desc_struct *d;

	if (sel & SEGMENT_TI_MASK || !index || index >= GDT_ENTRIES)
		return false;
	d = &lg->gdt[array_index_nospec(index, GDT_ENTRIES)];
	return d->p && !get_desc_base(d) && (!code || d->d);
}

/* The value a write stores: a register (or part of one) or an immediate. */
static u32 lg_write_value(struct lguest_regs *r, const struct lg_insn *in)
{
	if (in->reg < 0)
		return in->imm;
	if (in->size == 1 && in->reg >= 4)	/* %ah, %ch, %dh, %bh */
		return (*lg_gpr(r, in->reg - 4) >> 8) & 0xff;
	if (in->size == 4)
		return *lg_gpr(r, in->reg);
	return *lg_gpr(r, in->reg) & (BIT(8 * in->size) - 1);
}

static struct lg_mmio_window *lg_find_window(struct lguest *lg, u64 gpa,
					     u32 len)
{
	unsigned int i;

	for (i = 0; i < lg->nr_windows; i++)
		if (gpa >= lg->windows[i].start &&
		    gpa + len <= lg->windows[i].end)
			return &lg->windows[i];
	return NULL;
}

/* Signal the eventfd bound to this write, if there is one. */
static bool lg_ioeventfd_signal(struct lguest *lg, u64 gpa, u32 len, u32 data)
{
	struct lg_ioeventfd *p;

	list_for_each_entry(p, &lg->ioeventfds, list) {
		if (p->addr != gpa || p->len != len ||
		    (p->match_data && p->datamatch != data))
			continue;
		eventfd_signal(p->ctx);
		return true;
	}
	return false;
}

/* An access the guest made that is not a device access: it ends here. */
static void lg_bad_access(struct lguest *lg, const char *what, u32 gpa)
{
	kill_guest(lg, "%s at %#x (guest-physical %#x, memory ends at %#lx)",
		   what, lg->regs.eip, gpa, lg->mem_size);
}

/* Check the decoded instruction really made the access that faulted. */
static bool lg_insn_is_access(struct lguest *lg, const struct lg_insn *in,
			      u32 gpa, u32 errcode)
{
	struct lguest_regs *r = &lg->regs;

	if (!lg_seg_flat(lg, r->cs, true) ||
	    !lg_seg_flat(lg, in->stack ? r->ss : r->ds, false)) {
		lg_bad_access(lg, "device access through a segment with a base", gpa);
		return false;
	}
	if (in->ea != r->cr2 || in->write != !!(errcode & X86_PF_WRITE)) {
		lg_bad_access(lg, "device access by another instruction", gpa);
		return false;
	}
	if (offset_in_page(gpa) + in->size > PAGE_SIZE) {
		lg_bad_access(lg, "device access across a page boundary", gpa);
		return false;
	}
	return true;
}

/*
 * A guest page-table entry maps gpa, which is beyond guest memory, and the
 * guest touched it at %eip with this page-fault error code.  Make it a
 * device access, or kill the guest.  Called under lg->lock.
 */
void lguest_mmio_access(struct lguest *lg, u32 gpa, u32 errcode)
{
	struct lg_insn in;
	bool kicked;
	u32 data;

	if (!lg_decode(lg, &in)) {
		if (!lg->dead)
			lg_bad_access(lg, "undecodable instruction accessing a device",
				      gpa);
		return;
	}
	if (!lg_insn_is_access(lg, &in, gpa, errcode))
		return;

	mutex_lock(&lg->mmio_lock);
	if (!lg_find_window(lg, gpa, in.size)) {
		mutex_unlock(&lg->mmio_lock);
		lg_bad_access(lg, "access beyond guest memory, outside every device window",
			      gpa);
		return;
	}
	data = in.write ? lg_write_value(&lg->regs, &in) : 0;
	kicked = in.write && lg_ioeventfd_signal(lg, gpa, in.size, data);
	mutex_unlock(&lg->mmio_lock);

	lg->regs.eip += in.len;
	if (kicked) {
		lg->exits[LG_EXIT_IOEVENTFD]++;
		return;
	}
	lg->exits[LG_EXIT_MMIO]++;
	lg->exit.exit_reason = LGUEST_EXIT_MMIO;
	lg->exit.mmio.phys_addr = gpa;
	lg->exit.mmio.len = in.size;
	lg->exit.mmio.is_write = in.write;
	lg->exit.mmio.data = data;
	if (!in.write) {
		lg->mmio_read.pending = true;
		lg->mmio_read.reg = in.reg;
		lg->mmio_read.size = in.zero_extend ? in.opsize : in.size;
		lg->mmio_read.byte_high = in.size == 1 && !in.zero_extend &&
					  in.reg >= 4;
	}
}

/*
 * LGUEST_RUN after an MMIO read exit: the launcher's value goes into the
 * register, as the instruction would have loaded it (zero-extended by the
 * exit's size already, so movzx needs nothing more).
 */
void lguest_mmio_complete(struct lguest *lg, u32 data)
{
	struct lg_mmio_read *rd = &lg->mmio_read;
	u32 *reg, mask;

	if (!rd->pending)
		return;
	rd->pending = false;
	data &= lg->exit.mmio.len == 4 ? ~0U : BIT(8 * lg->exit.mmio.len) - 1;
	if (rd->byte_high) {
		reg = lg_gpr(&lg->regs, rd->reg - 4);
		*reg = (*reg & ~0xff00U) | data << 8;
		return;
	}
	reg = lg_gpr(&lg->regs, rd->reg);
	mask = rd->size == 4 ? ~0U : BIT(8 * rd->size) - 1;
	*reg = (*reg & ~mask) | data;
}

/* LGUEST_CHECK_EXTENSION. */
long lguest_check_extension(unsigned long cap)
{
	switch (cap) {
	case LGUEST_CAP_MMIO:
		return LG_MAX_MMIO_WINDOWS;
	case LGUEST_CAP_IOEVENTFD:
		return LG_MAX_IOEVENTFDS;
	}
	return 0;
}

/* LGUEST_ADD_MMIO_WINDOW. */
long lguest_add_mmio_window(struct lguest *lg,
			    const struct lguest_mmio_window __user *uwin)
{
	struct lguest_mmio_window win;
	unsigned int i;
	long err = 0;

	if (copy_from_user(&win, uwin, sizeof(win)))
		return -EFAULT;
	if (win.flags || memchr_inv(win.reserved, 0, sizeof(win.reserved)))
		return -EINVAL;
	if (!PAGE_ALIGNED(win.addr) || !win.size || !PAGE_ALIGNED(win.size) ||
	    win.size > SZ_4G || win.addr > SZ_4G - win.size ||
	    win.addr < lg->mem_size)
		return -EINVAL;

	mutex_lock(&lg->mmio_lock);
	for (i = 0; i < lg->nr_windows; i++)
		if (win.addr < lg->windows[i].end &&
		    win.addr + win.size > lg->windows[i].start)
			err = -EEXIST;
	if (!err && lg->nr_windows == LG_MAX_MMIO_WINDOWS)
		err = -ENOSPC;
	if (!err) {
		lg->windows[lg->nr_windows].start = win.addr;
		lg->windows[lg->nr_windows].end = win.addr + win.size;
		lg->nr_windows++;
	}
	mutex_unlock(&lg->mmio_lock);
	return err;
}

/* The binding this one would duplicate or contradict, if any. */
static struct lg_ioeventfd *lg_ioeventfd_clash(struct lguest *lg,
					       const struct lguest_ioeventfd *e)
{
	bool match = e->flags & LGUEST_IOEVENTFD_DATAMATCH;
	struct lg_ioeventfd *p;

	list_for_each_entry(p, &lg->ioeventfds, list)
		if (p->addr == e->addr && p->len == e->len &&
		    (!p->match_data || !match || p->datamatch == e->datamatch))
			return p;
	return NULL;
}

static long lg_ioeventfd_assign(struct lguest *lg,
				const struct lguest_ioeventfd *e)
{
	struct eventfd_ctx *ctx;
	struct lg_ioeventfd *p;

	if (lg_ioeventfd_clash(lg, e))
		return -EEXIST;
	if (lg->nr_ioeventfds == LG_MAX_IOEVENTFDS)
		return -ENOSPC;
	ctx = eventfd_ctx_fdget(e->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p) {
		eventfd_ctx_put(ctx);
		return -ENOMEM;
	}
	p->addr = e->addr;
	p->len = e->len;
	p->match_data = e->flags & LGUEST_IOEVENTFD_DATAMATCH;
	p->datamatch = e->datamatch;
	p->ctx = ctx;
	list_add_tail(&p->list, &lg->ioeventfds);
	lg->nr_ioeventfds++;
	return 0;
}

static long lg_ioeventfd_deassign(struct lguest *lg,
				  const struct lguest_ioeventfd *e)
{
	bool match = e->flags & LGUEST_IOEVENTFD_DATAMATCH;
	struct eventfd_ctx *ctx;
	struct lg_ioeventfd *p;
	long err = -ENOENT;

	ctx = eventfd_ctx_fdget(e->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	list_for_each_entry(p, &lg->ioeventfds, list) {
		if (p->addr != e->addr || p->len != e->len || p->ctx != ctx ||
		    p->match_data != match || p->datamatch != e->datamatch)
			continue;
		list_del(&p->list);
		lg->nr_ioeventfds--;
		eventfd_ctx_put(p->ctx);
		kfree(p);
		err = 0;
		break;
	}
	eventfd_ctx_put(ctx);
	return err;
}

/* LGUEST_IOEVENTFD: bind a write to an eventfd, or undo that. */
long lguest_ioeventfd(struct lguest *lg, const struct lguest_ioeventfd __user *ue)
{
	struct lguest_ioeventfd e;
	long err;

	if (copy_from_user(&e, ue, sizeof(e)))
		return -EFAULT;
	if (e.flags & ~(LGUEST_IOEVENTFD_DATAMATCH | LGUEST_IOEVENTFD_DEASSIGN) ||
	    memchr_inv(e.reserved, 0, sizeof(e.reserved)))
		return -EINVAL;
	if ((e.len != 1 && e.len != 2 && e.len != 4) ||
	    !IS_ALIGNED(e.addr, e.len))
		return -EINVAL;
	if (e.flags & LGUEST_IOEVENTFD_DATAMATCH ?
	    e.len < 4 && e.datamatch >> (8 * e.len) : e.datamatch)
		return -EINVAL;

	mutex_lock(&lg->mmio_lock);
	if (!lg_find_window(lg, e.addr, e.len))
		err = -EINVAL;
	else if (e.flags & LGUEST_IOEVENTFD_DEASSIGN)
		err = lg_ioeventfd_deassign(lg, &e);
	else
		err = lg_ioeventfd_assign(lg, &e);
	mutex_unlock(&lg->mmio_lock);
	return err;
}

void lguest_init_mmio(struct lguest *lg)
{
	mutex_init(&lg->mmio_lock);
	INIT_LIST_HEAD(&lg->ioeventfds);
}

void lguest_free_mmio(struct lguest *lg)
{
	struct lg_ioeventfd *p, *next;

	list_for_each_entry_safe(p, next, &lg->ioeventfds, list) {
		eventfd_ctx_put(p->ctx);
		kfree(p);
	}
	mutex_destroy(&lg->mmio_lock);
}
