// SPDX-License-Identifier: GPL-2.0
/*
 * The lguest launcher: guest memory at boot.
 *
 * The guest kernel starts at the entry point of its lguest ELF note, at
 * ring 1, with %esi pointing at struct boot_params and cr3 at page tables
 * that map all of guest memory both at 0 and at PAGE_OFFSET (the boot
 * protocol of <asm/lguest_para.h>).  Guest-physical memory then holds:
 *
 *   0x1000     struct boot_params, the "zero page"
 *   0x2000     the kernel command line, NUL-terminated
 *   0x3000     the page directory
 *   0x100000   its page tables: one 4 KiB table per 4 MiB of memory
 *   0x200000+  the kernel's segments, at their physical addresses
 *   top        the initrd, page aligned, ending at or below the top
 *
 * boot_check() decides where everything goes and refuses what does not
 * fit, before the guest is created; boot_setup() writes it all into fresh
 * guest memory, for the first boot and for every restart.
 */
#include <string.h>

#include "lguest.h"

#define PGDIR_SPAN		0x400000U	/* 4 MiB per page table */
#define PTRS_PER_TABLE		1024U
#define PTE_FLAGS		0x003U		/* present, writable */
#define PDE_FLAGS		0x003U		/* the guest kernel is ring 1 */
#define HDRS_MAGIC		0x53726448U	/* "HdrS" */
#define BOOT_PROTOCOL		0x020fU		/* 2.15, as Linux 6.12 */
#define LOADER_UNDEFINED	0xffU		/* no boot loader ID assigned */
#define BOOT_FLAG		0xaa55U
#define E820_RAM		1U		/* E820_TYPE_RAM */
#define E820_RESERVED		2U		/* E820_TYPE_RESERVED */

static u32 nr_pgtables(u32 mem_size)
{
	return (mem_size + PGDIR_SPAN - 1) / PGDIR_SPAN;
}

static u64 page_align(u64 x)
{
	return (x + LG_PAGE_SIZE - 1) & ~(u64)(LG_PAGE_SIZE - 1);
}

/*
 * The initrd goes at the top of memory, where it is out of the kernel's
 * way; a bzImage also says how high it may go (initrd_addr_max, the
 * address of its last byte).
 */
static void initrd_place(struct lg_boot *b)
{
	const struct lg_kernel *k = &b->kernel;
	u64 top = b->mem_size, low, addr;

	if (k->bzimage && (u64)k->hdr.initrd_addr_max + 1 < top)
		top = (u64)k->hdr.initrd_addr_max + 1;
	low = page_align(k->end);
	addr = (top - b->initrd_size) & ~(u64)(LG_PAGE_SIZE - 1);
	if (b->initrd_size > top || addr < low)
		die("%s: initrd too large: %zu bytes, room for %llu above the kernel",
		    b->initrd_path, b->initrd_size,
		    top > low ? top - low : 0);
	b->initrd_addr = addr;
}

/* Decide where everything goes; fail now if something does not fit. */
void boot_check(struct lg_boot *b)
{
	const struct lg_kernel *k = &b->kernel;
	size_t len = strlen(b->cmdline);

	if (k->end > b->mem_size)
		die("%s: kernel does not fit in %u MiB of guest memory (it ends at %#llx)",
		    k->path, b->mem_size >> 20, k->end);
	b->pgtables_end = LG_PGTABLES +
			  nr_pgtables(b->mem_size) * LG_PAGE_SIZE;
	if (b->pgtables_end > k->start)
		die("%s: kernel at %#x overlaps the initial page tables (%#x-%#x)",
		    k->path, k->start, LG_PGTABLES, b->pgtables_end);
	if (b->initrd)
		initrd_place(b);
	if (len > k->cmdline_max)
		die("kernel command line: too long (%zu bytes, at most %u)",
		    len, k->cmdline_max);

	pr_verbose(1, "boot_params %#x, command line %#x (%zu bytes)",
		   LG_BOOT_PARAMS, LG_CMDLINE, len);
	pr_verbose(1, "page directory %#x, page tables %#x-%#x", LG_PGDIR,
		   LG_PGTABLES, b->pgtables_end);
	pr_verbose(1, "kernel %#x-%#llx, entry %#x, guest memory %u MiB",
		   k->start, k->end, k->entry, b->mem_size >> 20);
	if (b->initrd)
		pr_verbose(1, "initrd %#x-%#llx", b->initrd_addr,
			   (u64)b->initrd_addr + b->initrd_size);
}

static void setup_boot_params(const struct lg_boot *b, u8 *mem)
{
	struct boot_params *bp = (struct boot_params *)(mem + LG_BOOT_PARAMS);
	const struct lg_kernel *k = &b->kernel;

	/* A bzImage's own setup header tells the kernel about itself. */
	if (k->bzimage) {
		memcpy(&bp->hdr, &k->hdr, k->hdr_len);
	} else {
		bp->hdr.boot_flag = BOOT_FLAG;
		bp->hdr.header = HDRS_MAGIC;
		bp->hdr.version = BOOT_PROTOCOL;
		bp->hdr.cmdline_size = LG_CMDLINE_MAX;
	}
	bp->hdr.type_of_loader = LOADER_UNDEFINED;
	bp->hdr.cmd_line_ptr = LG_CMDLINE;
	if (b->initrd) {
		bp->hdr.ramdisk_image = b->initrd_addr;
		bp->hdr.ramdisk_size = b->initrd_size;
	}
	/*
	 * The PC layout: Linux ignores an e820 table of one entry, and knows
	 * this one.  The hole below 1 MiB is memory the guest does not use.
	 */
	bp->e820_table[0].addr = 0;
	bp->e820_table[0].size = LG_LOW_RAM_END;
	bp->e820_table[0].type = E820_RAM;
	bp->e820_table[1].addr = LG_LOW_RAM_END;
	bp->e820_table[1].size = LG_HIGH_RAM - LG_LOW_RAM_END;
	bp->e820_table[1].type = E820_RESERVED;
	bp->e820_table[2].addr = LG_HIGH_RAM;
	bp->e820_table[2].size = b->mem_size - LG_HIGH_RAM;
	bp->e820_table[2].type = E820_RAM;
	bp->e820_entries = 3;
}

/*
 * Map all of guest memory twice with 4 KiB pages (the host does not take
 * large pages): at 0, where the entry point is (it is a physical address),
 * and at PAGE_OFFSET, where the kernel is linked.  Both page directory
 * entries point at the same page tables.
 */
static void setup_page_tables(const struct lg_boot *b, u8 *mem)
{
	u32 *pgdir = (u32 *)(mem + LG_PGDIR);
	u32 high = LG_PAGE_OFFSET / PGDIR_SPAN;
	u32 i, j, table, phys;
	u32 *pte;

	for (i = 0; i < nr_pgtables(b->mem_size); i++) {
		table = LG_PGTABLES + i * LG_PAGE_SIZE;
		pte = (u32 *)(mem + table);
		for (j = 0; j < PTRS_PER_TABLE; j++) {
			phys = i * PGDIR_SPAN + j * LG_PAGE_SIZE;
			if (phys >= b->mem_size)
				break;
			pte[j] = phys | PTE_FLAGS;
		}
		pgdir[i] = table | PDE_FLAGS;
		pgdir[high + i] = table | PDE_FLAGS;
	}
}

/* Write the kernel and its boot data into fresh (zeroed) guest memory. */
void boot_setup(const struct lg_boot *b, u8 *mem)
{
	kernel_load(&b->kernel, mem);
	setup_boot_params(b, mem);
	memcpy(mem + LG_CMDLINE, b->cmdline, strlen(b->cmdline) + 1);
	setup_page_tables(b, mem);
	if (b->initrd)
		memcpy(mem + b->initrd_addr, b->initrd, b->initrd_size);
}
