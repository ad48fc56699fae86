// SPDX-License-Identifier: GPL-2.0-only
/*
 * Segments: the guest's GDT, sanitized.
 *
 * The CPU runs the guest on a GDT the switcher builds from the guest's
 * entries.  A descriptor is a capability: a code segment with DPL 0 or a
 * call gate would let the guest into ring 0.  So every entry the guest
 * gives us is checked here: only code and data segments, never more
 * privileged than ring 1, and always "accessed" (the CPU would otherwise
 * write that bit into the GDT, which the guest's page tables map
 * read-only).  The entries the switcher itself needs (its own segments and
 * the TSS) are not the guest's to change.
 */
#include "lg.h"
#include "x86/switcher.h"

/* The flat segments a guest starts with, as Linux lays out its GDT. */
void lguest_init_gdt(struct lguest *lg)
{
	static const struct desc_struct kcs = GDT_ENTRY_INIT(DESC_CODE32 |
							     _DESC_DPL(1), 0, 0xfffff);
	static const struct desc_struct kds = GDT_ENTRY_INIT(DESC_DATA32 |
							     _DESC_DPL(1), 0, 0xfffff);
	static const struct desc_struct ucs = GDT_ENTRY_INIT(DESC_CODE32 |
							     DESC_USER, 0, 0xfffff);
	static const struct desc_struct uds = GDT_ENTRY_INIT(DESC_DATA32 |
							     DESC_USER, 0, 0xfffff);

	memset(lg->gdt, 0, sizeof(lg->gdt));
	lg->gdt[GDT_ENTRY_KERNEL_CS] = kcs;
	lg->gdt[GDT_ENTRY_KERNEL_DS] = kds;
	lg->gdt[GDT_ENTRY_DEFAULT_USER_CS] = ucs;
	lg->gdt[GDT_ENTRY_DEFAULT_USER_DS] = uds;
}

/* Entries the switcher owns: writes to them are ignored. */
static bool switcher_entry(u32 index)
{
	return index == GDT_ENTRY_LGUEST_CS || index == GDT_ENTRY_LGUEST_DS ||
	       index == GDT_ENTRY_TSS || index == GDT_ENTRY_DOUBLEFAULT_TSS;
}

static bool sanitize(struct lguest *lg, struct desc_struct *d)
{
	if (!d->p)
		return true;
	if (!d->s) {
		kill_guest(lg, "system descriptor (type %u) in GDT", d->type);
		return false;
	}
	if (d->dpl == 0)
		d->dpl = 1;
	d->type |= _DESC_ACCESSED;
	return true;
}

static void set_entry(struct lguest *lg, u32 index, u32 lo, u32 hi)
{
	struct desc_struct d;

	if (index >= GDT_ENTRIES) {
		kill_guest(lg, "bad GDT index %u", index);
		return;
	}
	if (switcher_entry(index))
		return;
	memcpy(&d, &lo, 4);
	memcpy((u8 *)&d + 4, &hi, 4);
	if (sanitize(lg, &d))
		lg->gdt[index] = d;
}

/* LHCALL_LOAD_GDT_ENTRY */
void lguest_load_gdt_entry(struct lguest *lg, u32 index, u32 lo, u32 hi)
{
	set_entry(lg, index, lo, hi);
}

/* LHCALL_LOAD_TLS: the three thread-local-storage entries, from memory. */
void lguest_load_tls(struct lguest *lg, u32 gpa)
{
	u32 tls[GDT_ENTRY_TLS_ENTRIES * 2];
	unsigned int i;

	if (!lg_read(lg, gpa, tls, sizeof(tls)))
		return;
	for (i = 0; i < GDT_ENTRY_TLS_ENTRIES; i++)
		set_entry(lg, GDT_ENTRY_TLS_MIN + i, tls[2 * i], tls[2 * i + 1]);
}
