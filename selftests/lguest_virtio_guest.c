// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile tiny guest for the launcher's virtio-mmio devices
 * (tools/lguest/virtio.c), run under the real launcher by
 * lguest_virtio_hostile_test.sh:
 *
 *	lguest --block=DISK 32M lguest_virtio_guest hostile=MODE
 *
 * This is no Linux, but the launcher takes it for a vmlinux: a
 * freestanding i386 program whose segments it loads at their physical
 * addresses (from 2 MiB, lguest_virtio_guest.lds) and which it starts at
 * ring 1 at the entry point of its lguest ELF note, %esi pointing at
 * boot_params.  It says what it finds on the hypercall console, one line
 * per check:
 *
 *	HOSTILE <case> ok[: <note>]
 *	HOSTILE <case> fail: <why>
 *
 * and powers off.  The modes:
 *
 *   virtq  drive the first virtio disk by hand, and break each rule of the
 *	    split virtqueue that the launcher checks, one case at a time: it
 *	    must set DEVICE_NEEDS_RESET (and print why), and serve a good
 *	    read again after a reset.  "HOSTILE done" at the end.
 *   stray  a write above guest memory but in no device window: the host
 *	    must kill the guest.
 *   insn   an instruction the host cannot decode, on a device register:
 *	    the host must kill the guest.
 *
 * The guest runs on page tables of its own, which map the first 4 MiB of
 * memory (this program included) and the device windows, each at its
 * physical address: a device register is a pointer to its address.  The
 * launcher's page tables would do for memory, but a guest at ring 1
 * cannot read %cr3 to find them and add the windows.  Interrupts are
 * never on: the guest polls, and gives up after a while rather than hang.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/compiler.h>	/* tools/include: barrier(), READ_ONCE() */
#include <linux/stringify.h>
#include <asm/bootparam.h>
#include <asm/lguest_para.h>
#include <linux/lguest.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#define PAGE_SIZE	0x1000u
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define PGDIR_SHIFT	22
#define PDE_FLAGS	0x023u		/* present, writable, accessed */
#define PTE_FLAGS	0x063u		/* and dirty */
#define LOW_MAP_END	0x400000u	/* memory we map: the first 4 MiB */
#define SWITCHER_BASE	0xffc00000u	/* the host's top 4 MiB */
#define NR_PGTABLES	4		/* the low one, up to 3 for devices */
#define STACK_SIZE	0x4000u
#define E820_RAM	1

#define MAX_WINDOWS	16
#define VIRTIO_MAGIC	0x74726976u	/* "virt" */
#define QSIZE		8		/* QueueNum of the disk's queue */
#define SECTOR_SIZE	512u
#define BAD_OFFSET	0x10000u	/* past the end of memory: no memory */
#define BAD_NEXT	200		/* a descriptor index past QSIZE */
#define STATUS_UNSET	0xffu		/* no VIRTIO_BLK_S_* */
#define DISK_MAGIC	"lguest hostile disk"	/* sector 0, from the test */

/*
 * How long to wait for the device thread: each poll is a register read
 * (an exit to the launcher) and a few thousand "pause"s.  That is seconds
 * in the TCG test VM; the device answers in milliseconds.
 */
#define POLLS		4000
#define POLL_PAUSES	2000

#define STATUS_SETUP	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER)

/* The rings with QSIZE entries, as <linux/virtio_ring.h> lays them out. */
struct avail_ring {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[QSIZE];
	uint16_t used_event;
};

struct used_ring {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[QSIZE];
	uint16_t avail_event;
};

enum mode { MODE_NONE, MODE_VIRTQ, MODE_STRAY, MODE_INSN };

/*
 * The entry point: a stack, then C.  The lguest note gives its physical
 * address, which is also its virtual one on every page table here.
 */
asm(".pushsection .text.entry, \"ax\"\n"
	".globl guest_entry\n"
	"guest_entry:\n"
	"	movl $guest_stack + " __stringify(STACK_SIZE) " - 12, %esp\n"
	"	pushl %esi\n"
	"	call guest_main\n"
	"1:	jmp 1b\n"
	".popsection\n"
	".pushsection .note.lguest, \"a\", @note\n"
	"	.balign 4\n"
	"	.long 2f - 1f\n"
	"	.long 4\n"
	"	.long " __stringify(LGUEST_ELFNOTE_ENTRY) "\n"
	"1:	.asciz \"" LGUEST_ELFNOTE_NAME "\"\n"
	"2:	.balign 4\n"
	"	.long guest_entry\n"
	".popsection");

uint8_t guest_stack[STACK_SIZE] __aligned(16);

static uint32_t pgdir[1024] __aligned(PAGE_SIZE);
static uint32_t pgtables[NR_PGTABLES][1024] __aligned(PAGE_SIZE);
static unsigned int nr_pgtables;

static uint32_t mem_size;		/* from the e820 table */
static uint32_t windows[MAX_WINDOWS];	/* from the command line */
static unsigned int nr_windows;
static uint32_t blk;			/* the disk's window */
static uint32_t stray;			/* above memory, in no window */

/* The disk's queue and one request, all guest-physical = virtual. */
static struct vring_desc desc[QSIZE] __aligned(16);
static struct avail_ring avail __aligned(4);
static struct used_ring used __aligned(4);
static struct vring_desc itable[3] __aligned(16);
static struct vring_desc inner[3] __aligned(16);
static struct virtio_blk_outhdr hdr;
static uint8_t data[SECTOR_SIZE];
static uint8_t blk_status;
static uint16_t avail_idx;		/* our next avail->idx */
static uint16_t used_idx;		/* the used->idx we have seen */

/* What went wrong, and a value to print with it. */
static const char *stage;
static uint32_t why_val;
static bool have_why_val;
static const char *ok_note;

static char line[256];
static unsigned int line_len;

static uint32_t hcall(uint32_t nr, uint32_t a1, uint32_t a2)
{
	asm volatile("int $" __stringify(LGUEST_TRAP_ENTRY)
		     : "+a" (nr)
		     : "b" (a1), "c" (a2), "d" (0), "S" (0)
		     : "memory");
	return nr;
}

static void __noreturn poweroff(void)
{
	hcall(LHCALL_SHUTDOWN, LGUEST_SHUTDOWN_POWEROFF, 0);
	for (;;)
		;
}

/*
 * Device registers with single "mov"s, the only instructions the host
 * decodes: a volatile access in C may become an "or" or an "add" on
 * memory, which would (rightly) get the guest killed.
 */
static uint32_t mmio_read(uint32_t addr)
{
	uint32_t val;

	asm volatile("movl (%1), %0" : "=r" (val) : "r" (addr) : "memory");
	return val;
}

static void mmio_write(uint32_t addr, uint32_t val)
{
	asm volatile("movl %0, (%1)" : : "r" (val), "r" (addr) : "memory");
}

static uint32_t reg_read(uint32_t off)
{
	return mmio_read(blk + off);
}

static void reg_write(uint32_t off, uint32_t val)
{
	mmio_write(blk + off, val);
}

static uint32_t dev_status(void)
{
	return reg_read(VIRTIO_MMIO_STATUS);
}

/* What the device thread writes, read once each time. */
static uint16_t used_index(void)
{
	return READ_ONCE(used.idx);
}

static uint8_t read_status_byte(void)
{
	return READ_ONCE(blk_status);
}

static void pause_a_while(void)
{
	unsigned int i;

	for (i = 0; i < POLL_PAUSES; i++)
		asm volatile("pause");
}

/*
 * Byte loops: there is no memset() or memcmp() to call, and
 * -fno-tree-loop-distribute-patterns keeps the compiler from making
 * these loops into calls.
 */
static void zero(void *p, size_t len)
{
	uint8_t *b = p;

	while (len--)
		*b++ = 0;
}

static bool same(const void *a, const char *s, size_t len)
{
	const uint8_t *p = a;

	while (len--)
		if (*p++ != (uint8_t)*s++)
			return false;
	return true;
}

/* The console line being built, and its output. */
static void put_char(char c)
{
	if (line_len < sizeof(line) - 1)
		line[line_len++] = c;
}

static void put_str(const char *s)
{
	while (*s)
		put_char(*s++);
}

static void put_hex(uint32_t val)
{
	int shift = 28;

	put_str("0x");
	while (shift > 0 && !(val >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		put_char("0123456789abcdef"[(val >> shift) & 0xf]);
}

static void put_end(void)
{
	line[line_len++] = '\n';
	hcall(LHCALL_CONSOLE_WRITE, (uint32_t)line, line_len);
	line_len = 0;
}

static void report(const char *name, const char *why)
{
	put_str("HOSTILE ");
	put_str(name);
	if (!why) {
		put_str(" ok");
		if (ok_note) {
			put_str(": ");
			put_str(ok_note);
		}
	} else {
		put_str(" fail: ");
		if (stage)
			put_str(stage);
		put_str(why);
		if (have_why_val) {
			put_char(' ');
			put_hex(why_val);
		}
	}
	put_end();
}

/* A failure with a value to show. */
static const char *fail(const char *why, uint32_t val)
{
	why_val = val;
	have_why_val = true;
	return why;
}

/* Map the page at @addr at the same virtual address. */
static bool map_page(uint32_t addr)
{
	uint32_t *pde = &pgdir[addr >> PGDIR_SHIFT];
	uint32_t *pt;

	if (addr >= SWITCHER_BASE)
		return false;
	if (!*pde) {
		if (nr_pgtables == NR_PGTABLES)
			return false;
		pt = pgtables[nr_pgtables++];
		*pde = (uint32_t)pt | PDE_FLAGS;
	}
	pt = (uint32_t *)(*pde & PAGE_MASK);
	pt[(addr >> 12) & 1023] = (addr & PAGE_MASK) | PTE_FLAGS;
	return true;
}

/*
 * Our page tables: memory below 4 MiB but page 0 (a NULL pointer is a
 * fault), the windows and the stray page.  Then the host shadows them.
 * The linker script makes sure this program is in those 4 MiB.
 */
static const char *map_all(void)
{
	uint32_t addr;
	unsigned int i;

	for (addr = PAGE_SIZE; addr < LOW_MAP_END; addr += PAGE_SIZE)
		map_page(addr);
	for (i = 0; i < nr_windows; i++)
		if (!map_page(windows[i]))
			return fail("cannot map window", windows[i]);
	if (!map_page(stray))
		return fail("cannot map", stray);
	hcall(LHCALL_NEW_PGTABLE, (uint32_t)pgdir, 0);
	return NULL;
}

/* Guest memory: the end of the highest RAM entry of the e820 table. */
static uint32_t find_mem_size(const struct boot_params *bp)
{
	const struct boot_e820_entry *e;
	uint64_t end, top = 0;
	unsigned int i;

	for (i = 0; i < bp->e820_entries && i < E820_MAX_ENTRIES_ZEROPAGE;
	     i++) {
		e = &bp->e820_table[i];
		end = e->addr + e->size;
		if (e->type == E820_RAM && end > top)
			top = end;
	}
	return top > SWITCHER_BASE ? SWITCHER_BASE : top;
}

static const char *skip_prefix(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return NULL;
	return s;
}

static uint32_t parse_num(const char *s)
{
	uint32_t val = 0, base = 10, d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return val;
		val = val * base + d;
	}
}

/* One word of the command line. */
static void parse_word(const char *w, enum mode *mode)
{
	const char *v;

	v = skip_prefix(w, "virtio_mmio.device=");
	if (v) {
		while (*v && *v != ' ' && *v != '@')
			v++;
		if (*v == '@' && nr_windows < MAX_WINDOWS)
			windows[nr_windows++] = parse_num(v + 1) & PAGE_MASK;
		return;
	}
	v = skip_prefix(w, "hostile=");
	if (!v)
		return;
	if (skip_prefix(v, "virtq"))
		*mode = MODE_VIRTQ;
	else if (skip_prefix(v, "stray"))
		*mode = MODE_STRAY;
	else if (skip_prefix(v, "insn"))
		*mode = MODE_INSN;
}

/* The launcher announces its devices with virtio_mmio.device= words. */
static enum mode parse_cmdline(const char *p)
{
	enum mode mode = MODE_NONE;

	while (*p) {
		while (*p == ' ')
			p++;
		if (*p)
			parse_word(p, &mode);
		while (*p && *p != ' ')
			p++;
	}
	return mode;
}

/*
 * Above memory, in no window: the page below the first window if that is
 * above memory, else well past the last one.
 */
static uint32_t find_stray(void)
{
	uint32_t first = windows[0], last = windows[0];
	unsigned int i;

	for (i = 1; i < nr_windows; i++) {
		if (windows[i] < first)
			first = windows[i];
		if (windows[i] > last)
			last = windows[i];
	}
	if (first - PAGE_SIZE >= mem_size)
		return first - PAGE_SIZE;
	return last + BAD_OFFSET;
}

/* The first virtio-mmio version 2 block device among the windows. */
static uint32_t find_disk(void)
{
	unsigned int i;
	uint32_t w;

	for (i = 0; i < nr_windows; i++) {
		w = windows[i];
		if (mmio_read(w + VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MAGIC &&
		    mmio_read(w + VIRTIO_MMIO_VERSION) == 2 &&
		    mmio_read(w + VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_BLOCK)
			return w;
	}
	return 0;
}

static void set_desc(struct vring_desc *d, const void *addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	d->addr = (uint32_t)addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* A read of sector 0 in @t[0..2]: header, @len bytes at @buf, status. */
static void read_request(struct vring_desc *t, const void *buf, uint32_t len)
{
	hdr.type = VIRTIO_BLK_T_IN;
	hdr.ioprio = 0;
	hdr.sector = 0;
	blk_status = STATUS_UNSET;
	set_desc(&t[0], &hdr, sizeof(hdr), VRING_DESC_F_NEXT, 1);
	set_desc(&t[1], buf, len, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	set_desc(&t[2], &blk_status, 1, VRING_DESC_F_WRITE, 0);
}

/* Make @head available with avail->idx @idx, and kick the queue. */
static void publish_idx(uint16_t head, uint16_t idx)
{
	avail.ring[avail_idx % QSIZE] = head;
	/* The descriptors and the entry, before the index that shows them. */
	barrier();
	WRITE_ONCE(avail.idx, idx);
	barrier();
	reg_write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static void publish(uint16_t head)
{
	publish_idx(head, avail_idx + 1);
	avail_idx++;
}

/* The device completed a buffer: NULL; else why not. */
static const char *wait_used(void)
{
	uint32_t st = 0;
	int i;

	for (i = 0; i < POLLS; i++) {
		if (used_index() != used_idx) {
			barrier();	/* the entry after the index */
			return NULL;
		}
		st = dev_status();
		if (st & VIRTIO_CONFIG_S_NEEDS_RESET)
			return fail("device error, status", st);
		pause_a_while();
	}
	return fail("no answer from the device, status", st);
}

/* The device refused what we did: NEEDS_RESET, and nothing completed. */
static const char *expect_refused(void)
{
	uint32_t st = 0;
	int i;

	for (i = 0; i < POLLS; i++) {
		st = dev_status();
		if (st & VIRTIO_CONFIG_S_NEEDS_RESET)
			break;
		pause_a_while();
	}
	if (!(st & VIRTIO_CONFIG_S_NEEDS_RESET))
		return fail("no NEEDS_RESET, status", st);
	if (used_index() != used_idx)
		return fail("the device completed it, used index", used_index());
	return NULL;
}

static const char *queue_setup(void)
{
	zero(desc, sizeof(desc));
	zero(&avail, sizeof(avail));
	zero(&used, sizeof(used));
	avail_idx = 0;
	used_idx = 0;
	reg_write(VIRTIO_MMIO_QUEUE_SEL, 0);
	if (reg_read(VIRTIO_MMIO_QUEUE_READY))
		return "queue 0 ready after a reset";
	if (reg_read(VIRTIO_MMIO_QUEUE_NUM_MAX) < QSIZE)
		return fail("QueueNumMax", reg_read(VIRTIO_MMIO_QUEUE_NUM_MAX));
	reg_write(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	reg_write(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	reg_write(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	reg_write(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)&avail);
	reg_write(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	reg_write(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)&used);
	reg_write(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	reg_write(VIRTIO_MMIO_QUEUE_READY, 1);
	if (reg_read(VIRTIO_MMIO_QUEUE_READY) != 1)
		return fail("queue 0 not ready, status", dev_status());
	return NULL;
}

/*
 * Reset the disk and set it up as a driver does: VIRTIO_F_VERSION_1, and
 * indirect descriptors, which the indirect cases use; queue 0; DRIVER_OK.
 */
static const char *dev_setup(void)
{
	uint32_t st = STATUS_SETUP | VIRTIO_CONFIG_S_FEATURES_OK;
	const char *why;

	reg_write(VIRTIO_MMIO_STATUS, 0);
	if (dev_status())
		return fail("status after a reset", dev_status());
	reg_write(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	reg_write(VIRTIO_MMIO_STATUS, STATUS_SETUP);
	reg_write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	if (!(reg_read(VIRTIO_MMIO_DEVICE_FEATURES) &
	      (1u << (VIRTIO_F_VERSION_1 - 32))))
		return "VIRTIO_F_VERSION_1 not offered";
	reg_write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	if (!(reg_read(VIRTIO_MMIO_DEVICE_FEATURES) &
	      (1u << VIRTIO_RING_F_INDIRECT_DESC)))
		return "VIRTIO_RING_F_INDIRECT_DESC not offered";
	reg_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	reg_write(VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_RING_F_INDIRECT_DESC);
	reg_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	reg_write(VIRTIO_MMIO_DRIVER_FEATURES, 1u << (VIRTIO_F_VERSION_1 - 32));
	reg_write(VIRTIO_MMIO_STATUS, st);
	if (dev_status() != st)
		return fail("FEATURES_OK refused, status", dev_status());
	why = queue_setup();
	if (why)
		return why;
	st |= VIRTIO_CONFIG_S_DRIVER_OK;
	reg_write(VIRTIO_MMIO_STATUS, st);
	if (dev_status() != st)
		return fail("status after DRIVER_OK", dev_status());
	return NULL;
}

/* Sector 0 of the test's disk, read the way a driver does. */
static const char *good_read(void)
{
	const struct vring_used_elem *e;
	const char *why;

	zero(data, sizeof(data));
	read_request(desc, data, sizeof(data));
	publish(0);
	why = wait_used();
	if (why)
		return why;
	e = &used.ring[used_idx % QSIZE];
	used_idx++;
	if (e->id != 0)
		return fail("used entry for descriptor", e->id);
	if (e->len != sizeof(data) + 1)
		return fail("used length", e->len);
	if (read_status_byte() != VIRTIO_BLK_S_OK)
		return fail("request status", read_status_byte());
	if (!same(data, DISK_MAGIC, sizeof(DISK_MAGIC) - 1))
		return "sector 0 is not the test disk's";
	return NULL;
}

/* A read into a buffer the device cannot have. */
static const char *bad_buffer(uint32_t addr, uint32_t len)
{
	read_request(desc, (const void *)addr, len);
	publish(0);
	return expect_refused();
}

static const char *desc_outside_memory(void)
{
	return bad_buffer(mem_size + BAD_OFFSET, SECTOR_SIZE);
}

/* Where the host's switcher is mapped, in every address space. */
static const char *desc_in_switcher(void)
{
	return bad_buffer(SWITCHER_BASE, SECTOR_SIZE);
}

/* Inside memory, but its end wraps around 4 GiB. */
static const char *desc_wraps(void)
{
	return bad_buffer(0x300000, 0xffffffff);
}

/*
 * Nothing to read or write: refusing it is fine, and so is completing it
 * with nothing written, but not reporting success in a status byte the
 * device has no room for.
 */
static const char *zero_length(void)
{
	const struct vring_used_elem *e;
	uint32_t st = 0;
	int i;

	blk_status = STATUS_UNSET;
	set_desc(&desc[0], &hdr, 0, VRING_DESC_F_NEXT, 1);
	set_desc(&desc[1], data, 0, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	set_desc(&desc[2], &blk_status, 0, VRING_DESC_F_WRITE, 0);
	publish(0);
	for (i = 0; i < POLLS; i++) {
		if (used_index() != used_idx)
			break;
		st = dev_status();
		if (st & VIRTIO_CONFIG_S_NEEDS_RESET) {
			ok_note = "refused";
			return NULL;
		}
		pause_a_while();
	}
	if (used_index() == used_idx)
		return fail("no answer from the device, status", st);
	barrier();
	e = &used.ring[used_idx % QSIZE];
	used_idx++;
	if (e->len)
		return fail("device wrote into nothing, used length", e->len);
	if (read_status_byte() == VIRTIO_BLK_S_OK)
		return "status byte of no length says OK";
	ok_note = "completed";
	return NULL;
}

/* 0 -> 1 -> 0 -> ...: the device must not walk it forever. */
static const char *desc_loop(void)
{
	set_desc(&desc[0], &hdr, sizeof(hdr), VRING_DESC_F_NEXT, 1);
	set_desc(&desc[1], &hdr, sizeof(hdr), VRING_DESC_F_NEXT, 0);
	publish(0);
	return expect_refused();
}

static const char *next_out_of_range(void)
{
	set_desc(&desc[0], &hdr, sizeof(hdr), VRING_DESC_F_NEXT, BAD_NEXT);
	publish(0);
	return expect_refused();
}

static const char *head_out_of_range(void)
{
	read_request(desc, data, sizeof(data));
	publish(BAD_NEXT);
	return expect_refused();
}

/* More buffers made available than the queue can hold. */
static const char *avail_runs_ahead(void)
{
	read_request(desc, data, sizeof(data));
	publish_idx(0, avail_idx + QSIZE + 1);
	return expect_refused();
}

static const char *indirect_outside(void)
{
	set_desc(&desc[0], (const void *)(mem_size + BAD_OFFSET),
		 sizeof(itable), VRING_DESC_F_INDIRECT, 0);
	publish(0);
	return expect_refused();
}

/* An indirect table whose first entry is another (good) one. */
static const char *indirect_nested(void)
{
	read_request(inner, data, sizeof(data));
	set_desc(&itable[0], inner, sizeof(inner), VRING_DESC_F_INDIRECT, 0);
	set_desc(&desc[0], itable, sizeof(itable[0]), VRING_DESC_F_INDIRECT, 0);
	publish(0);
	return expect_refused();
}

/* Set up anew with rings the device cannot have: refused at QueueReady. */
static const char *rings_outside_memory(void)
{
	reg_write(VIRTIO_MMIO_QUEUE_READY, 0);
	reg_write(VIRTIO_MMIO_QUEUE_DESC_LOW, mem_size + BAD_OFFSET);
	reg_write(VIRTIO_MMIO_QUEUE_READY, 1);
	if (reg_read(VIRTIO_MMIO_QUEUE_READY))
		return "queue ready on rings outside memory";
	return expect_refused();
}

static const char *queue_size_bad(void)
{
	reg_write(VIRTIO_MMIO_QUEUE_READY, 0);
	reg_write(VIRTIO_MMIO_QUEUE_NUM, 3);
	reg_write(VIRTIO_MMIO_QUEUE_READY, 1);
	if (reg_read(VIRTIO_MMIO_QUEUE_READY))
		return "queue ready with 3 entries";
	return expect_refused();
}

/* Nothing more: the good read before it shows the last case left no harm. */
static const char *recovery(void)
{
	return NULL;
}

static const struct hostile_case {
	const char *name;
	const char *(*run)(void);
} cases[] = {
	{ "desc_outside_memory", desc_outside_memory },
	{ "desc_in_switcher", desc_in_switcher },
	{ "desc_wraps", desc_wraps },
	{ "zero_length", zero_length },
	{ "desc_loop", desc_loop },
	{ "next_out_of_range", next_out_of_range },
	{ "head_out_of_range", head_out_of_range },
	{ "avail_runs_ahead", avail_runs_ahead },
	{ "indirect_outside", indirect_outside },
	{ "indirect_nested", indirect_nested },
	{ "rings_outside_memory", rings_outside_memory },
	{ "queue_size_bad", queue_size_bad },
	{ "recovery", recovery },
	{ }
};

static const char *run_case(const struct hostile_case *c)
{
	const char *why;

	stage = "setup: ";
	why = dev_setup();
	if (why)
		return why;
	stage = "good read before it: ";
	why = good_read();
	if (why)
		return why;
	stage = NULL;
	return c->run();
}

static void run_virtq(void)
{
	const struct hostile_case *c;

	for (c = cases; c->name; c++) {
		have_why_val = false;
		ok_note = NULL;
		report(c->name, run_case(c));
	}
	reg_write(VIRTIO_MMIO_STATUS, 0);
	put_str("HOSTILE done");
	put_end();
}

static void run_stray(void)
{
	put_str("HOSTILE stray ready at ");
	put_hex(stray);
	put_end();
	mmio_write(stray, 0);
	report("stray", "survived a write outside every window");
}

/* A locked read-modify-write of Status: no "mov", no device access. */
static void run_insn(void)
{
	uint32_t addr = blk + VIRTIO_MMIO_STATUS;

	put_str("HOSTILE insn ready at ");
	put_hex(addr);
	put_end();
	asm volatile("lock orl $0, (%0)" : : "r" (addr) : "memory");
	report("insn", "survived an undecodable device access");
}

/* Called by guest_entry only. */
void guest_main(const struct boot_params *bp)
{
	enum mode mode;
	const char *why;

	/* Everything from boot_params first: our tables map only 4 MiB. */
	mem_size = find_mem_size(bp);
	mode = parse_cmdline((const char *)bp->hdr.cmd_line_ptr);
	if (!nr_windows) {
		report("setup", "no virtio_mmio.device= on the command line");
		poweroff();
	}
	stray = find_stray();
	why = map_all();
	if (why) {
		report("setup", why);
		poweroff();
	}
	blk = find_disk();
	if (!blk) {
		report("setup", "no virtio block device");
		poweroff();
	}
	switch (mode) {
	case MODE_VIRTQ:
		run_virtq();
		break;
	case MODE_STRAY:
		run_stray();
		break;
	case MODE_INSN:
		run_insn();
		break;
	default:
		report("setup", "no hostile=virtq, stray or insn");
	}
	poweroff();
}
