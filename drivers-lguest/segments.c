// SPDX-License-Identifier: GPL-2.0-only
/*
 * Segments: the guest's GDT and LDT, sanitized.
 *
 * The CPU runs the guest on a GDT the switcher builds from the guest's
 * entries, and on an LDT we copy from the guest's.  A descriptor is a
 * capability: a code segment with DPL 0 or a call gate would let the guest
 * into ring 0.  So every entry the guest gives us is checked here, by the
 * same rules for both tables: only code and data segments, never more
 * privileged than ring 1, and always "accessed" (the CPU would otherwise
 * write that bit into the table, which the guest's page tables map
 * read-only).  The entries the switcher itself needs (its own segments,
 * the TSS and the LDT descriptor) are not the guest's to change.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/nospec.h>

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
	       index == GDT_ENTRY_TSS || index == GDT_ENTRY_LDT ||
	       index == GDT_ENTRY_DOUBLEFAULT_TSS;
}

/*
 * A descriptor that is not present cannot be loaded, so it is left as it
 * is: "lar" still shows the guest what it wrote there.
 */
static bool sanitize(struct lguest *lg, struct desc_struct *d,
		     const char *table)
{
	if (!d->p)
		return true;
	if (!d->s) {
		kill_guest(lg, "system descriptor (type %u) in %s", d->type,
			   table);
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
	index = array_index_nospec(index, GDT_ENTRIES);
	if (switcher_entry(index))
		return;
	memcpy(&d, &lo, 4);
	memcpy((u8 *)&d + 4, &hi, 4);
	if (sanitize(lg, &d, "GDT"))
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

/*
 * LHCALL_SET_LDT: the guest's local descriptor table, @entries descriptors
 * at guest-virtual address @gva (0 entries: no LDT).  Linux vmallocs large
 * LDTs, so the pages need not be contiguous in guest memory: we copy them
 * one guest page at a time, through the guest's page tables, into pages of
 * our own, and check every descriptor there.  The switcher maps our pages
 * read-only at LGUEST_LDT_ADDR while this guest runs (see x86/core.c); the
 * CPU never sees the guest's copy.  Linux never changes an LDT it has
 * installed (modify_ldt() installs a new one), so the copy stays right
 * until the next call.
 */
void lguest_set_ldt(struct lguest *lg, u32 gva, u32 entries)
{
	u32 bytes, done, chunk, gpa;
	struct desc_struct *ldt;
	unsigned int i;

	lg->ldt_entries = 0;
	if (entries > LDT_ENTRIES) {
		kill_guest(lg, "LDT of %u entries", entries);
		return;
	}
	bytes = entries * LDT_ENTRY_SIZE;
	for (done = 0; done < bytes; done += chunk) {
		unsigned int page = done / PAGE_SIZE;

		chunk = min_t(u32, bytes - done,
			      PAGE_SIZE - offset_in_page(gva + done));
		chunk = min_t(u32, chunk, PAGE_SIZE - offset_in_page(done));
		if (!lg->ldt_pages[page]) {
			lg->ldt_pages[page] = alloc_page(GFP_KERNEL_ACCOUNT);
			if (!lg->ldt_pages[page]) {
				kill_guest(lg, "no memory for an LDT");
				return;
			}
		}
		if (!lguest_gva_to_gpa(lg, gva + done, false, &gpa)) {
			kill_guest(lg, "LDT at %#x: not mapped", gva + done);
			return;
		}
		if (!lg_read(lg, gpa, (u8 *)page_address(lg->ldt_pages[page]) +
			     offset_in_page(done), chunk))
			return;
	}
	for (i = 0; i < entries; i++) {
		ldt = page_address(lg->ldt_pages[i / LG_LDT_ENTRIES_PER_PAGE]);
		if (!sanitize(lg, &ldt[i % LG_LDT_ENTRIES_PER_PAGE], "LDT"))
			return;
	}
	lg->ldt_entries = entries;
}

/* Does @sel name a present 16-bit data segment of the guest's? */
bool lguest_segment_is_16bit(struct lguest *lg, u32 sel)
{
	const struct desc_struct *d;
	u32 i = sel >> 3;

	if (!(sel & SEGMENT_TI_MASK)) {
		if (i >= GDT_ENTRIES)
			return false;
		d = &lg->gdt[array_index_nospec(i, GDT_ENTRIES)];
	} else {
		if (i >= lg->ldt_entries)
			return false;
		i = array_index_nospec(i, lg->ldt_entries);
		d = (struct desc_struct *)page_address(lg->ldt_pages[i /
			LG_LDT_ENTRIES_PER_PAGE]) + i % LG_LDT_ENTRIES_PER_PAGE;
	}
	return d->p && d->s && !(d->type & 8) && !d->d;
}

void lguest_free_ldt(struct lguest *lg)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lg->ldt_pages); i++)
		if (lg->ldt_pages[i])
			__free_page(lg->ldt_pages[i]);
}
