// SPDX-License-Identifier: GPL-2.0
/*
 * The lguest launcher: reading the guest kernel.
 *
 * A kernel that runs under lguest is a 32-bit x86 vmlinux carrying an
 * lguest ELF note with its entry point (<asm/lguest_para.h>).  It comes
 * either as that vmlinux or as a bzImage, whose payload is the same ELF
 * file, compressed (Documentation/arch/x86/boot.rst, protocol 2.08 and
 * later).  Only gzip payloads are inflated: zlib is everywhere, and each
 * of the other formats would need a library of its own.
 *
 * Everything here is checked before any of it is used: the file may be
 * truncated, corrupt or not a kernel at all.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lguest.h"

/* Where a bzImage keeps what we need (Documentation/arch/x86/boot.rst). */
#define BZ_HDR_OFFSET		0x1f1	/* struct setup_header */
#define BZ_JUMP_OFFSET		0x201	/* the header ends at 0x202 + this */
#define BZ_MAGIC_OFFSET		0x202	/* "HdrS" */
#define BZ_MAGIC		"HdrS"
#define BZ_MIN_VERSION		0x0208	/* has payload_offset/length */
#define BZ_CMDLINE_VERSION	0x0206	/* has cmdline_size */

/* The compressed formats a bzImage payload can have, to name them. */
static const struct {
	const char *name;
	u8 magic[6];
	size_t len;
} payload_formats[] = {
	{ "gzip",	{ 0x1f, 0x8b }, 2 },
	{ "bzip2",	{ 'B', 'Z', 'h' }, 3 },
	{ "lzma",	{ 0x5d, 0x00, 0x00 }, 3 },
	{ "xz",		{ 0xfd, '7', 'z', 'X', 'Z', 0x00 }, 6 },
	{ "lzo",	{ 0x89, 'L', 'Z', 'O' }, 4 },
	{ "lz4",	{ 0x02, 0x21, 0x4c, 0x18 }, 4 },
	{ "zstd",	{ 0x28, 0xb5, 0x2f, 0xfd }, 4 },
};

static u32 get_le32(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

static u64 align4(u64 x)
{
	return (x + 3) & ~3ULL;
}

static bool is_elf(const u8 *p, size_t size)
{
	return size >= SELFMAG && !memcmp(p, ELFMAG, SELFMAG);
}

static bool is_bzimage(const u8 *p, size_t size)
{
	return size >= BZ_MAGIC_OFFSET + 4 &&
	       !memcmp(p + BZ_MAGIC_OFFSET, BZ_MAGIC, 4);
}

static const char *payload_format(const u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(payload_formats) / sizeof(*payload_formats);
	     i++) {
		if (len >= payload_formats[i].len &&
		    !memcmp(p, payload_formats[i].magic,
			    payload_formats[i].len))
			return payload_formats[i].name;
	}
	return "an unknown method";
}

/*
 * Inflate the gzip payload into k->elf.  The gzip trailer holds the
 * inflated size (modulo 4 GiB), but the file is not trusted: it is only
 * the first guess for the buffer, which grows up to the largest guest
 * memory if needed.
 */
static void gunzip(struct lg_kernel *k, const u8 *in, size_t len)
{
	size_t cap = len >= 4 ? get_le32(in + len - 4) : 0;
	z_stream zs = { 0 };
	u8 *out;
	int ret;

	if (cap < len || cap > LGUEST_MAX_MEM_SIZE)
		cap = len * 4;
	if (cap < (1 << 16))
		cap = 1 << 16;
	out = xmalloc(cap);
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		die("%s: cannot inflate: out of memory", k->path);
	zs.next_in = (unsigned char *)in;
	zs.avail_in = len;
	do {
		if (zs.total_out == cap) {
			if (cap >= LGUEST_MAX_MEM_SIZE)
				die("%s: payload inflates to more than %llu MiB",
				    k->path, LGUEST_MAX_MEM_SIZE >> 20);
			cap = cap * 2 < LGUEST_MAX_MEM_SIZE ?
			      cap * 2 : LGUEST_MAX_MEM_SIZE;
			out = xrealloc(out, cap);
		}
		zs.next_out = out + zs.total_out;
		zs.avail_out = cap - zs.total_out;
		ret = inflate(&zs, Z_NO_FLUSH);
	} while (ret == Z_OK);

	if (ret == Z_BUF_ERROR)
		die("%s: truncated gzip payload", k->path);
	if (ret == Z_MEM_ERROR)
		die("%s: cannot inflate: out of memory", k->path);
	if (ret != Z_STREAM_END)
		die("%s: corrupt gzip payload: %s", k->path,
		    zs.msg ? zs.msg : "bad data");
	k->elf = out;
	k->elf_size = zs.total_out;
	inflateEnd(&zs);
}

/* Find the vmlinux in a bzImage and keep its setup header. */
static void bzimage_open(struct lg_kernel *k, const u8 *f, size_t size)
{
	size_t hdr_len = BZ_MAGIC_OFFSET + f[BZ_JUMP_OFFSET] - BZ_HDR_OFFSET;
	struct setup_header *hdr = &k->hdr;
	u64 start, end;
	const char *format;

	if (hdr_len > sizeof(*hdr))
		hdr_len = sizeof(*hdr);
	if (BZ_HDR_OFFSET + hdr_len > size)
		die("%s: truncated bzImage: setup header beyond the end",
		    k->path);
	memcpy(hdr, f + BZ_HDR_OFFSET, hdr_len);
	k->hdr_len = hdr_len;
	k->bzimage = true;
	if (hdr_len >= offsetof(struct setup_header, version) +
		       sizeof(hdr->version) &&
	    hdr->version < BZ_MIN_VERSION)
		die("%s: bzImage boot protocol %u.%02u is too old (need 2.08)",
		    k->path, hdr->version >> 8, hdr->version & 0xff);
	if (hdr_len < offsetof(struct setup_header, payload_length) +
		      sizeof(hdr->payload_length))
		die("%s: corrupt bzImage: setup header of only %zu bytes",
		    k->path, hdr_len);

	/* A setup_sects of 0 means 4; the boot sector comes first. */
	start = ((hdr->setup_sects ? hdr->setup_sects : 4) + 1) * 512ULL +
		hdr->payload_offset;
	end = start + hdr->payload_length;
	if (end > size)
		die("%s: truncated bzImage: payload ends at byte %llu, file has %zu",
		    k->path, end, size);
	format = payload_format(f + start, hdr->payload_length);
	if (strcmp(format, "gzip"))
		die("%s: payload compressed with %s; only gzip is supported, pass vmlinux instead",
		    k->path, format);
	gunzip(k, f + start, hdr->payload_length);
	pr_verbose(1, "%s: bzImage, boot protocol %u.%02u, %u bytes of gzip inflated to %zu",
		   k->path, hdr->version >> 8, hdr->version & 0xff,
		   hdr->payload_length, k->elf_size);
	if (!is_elf(k->elf, k->elf_size))
		die("%s: bzImage payload is not an ELF file", k->path);
}

static void elf_check_header(struct lg_kernel *k)
{
	Elf32_Ehdr eh;

	if (k->elf_size < sizeof(eh))
		die("%s: truncated ELF file", k->path);
	memcpy(&eh, k->elf, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS32 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_386)
		die("%s: wrong architecture: need a 32-bit x86 kernel",
		    k->path);
	if (eh.e_type != ET_EXEC)
		die("%s: not an executable ELF file", k->path);
	if (eh.e_phentsize != sizeof(Elf32_Phdr) || !eh.e_phnum)
		die("%s: corrupt ELF file: bad program header table", k->path);
	if (eh.e_phoff + (u64)eh.e_phnum * sizeof(Elf32_Phdr) >
	    k->elf_size)
		die("%s: truncated ELF file: program headers beyond the end",
		    k->path);
	k->phoff = eh.e_phoff;
	k->phnum = eh.e_phnum;
}

/* Program headers need not be aligned in the file: copy them out. */
static void elf_phdr(const struct lg_kernel *k, unsigned int i, Elf32_Phdr *ph)
{
	memcpy(ph, k->elf + k->phoff + i * sizeof(*ph), sizeof(*ph));
}

static void elf_check_segment(struct lg_kernel *k, unsigned int i,
			      const Elf32_Phdr *ph)
{
	u64 end = (u64)ph->p_paddr + ph->p_memsz;

	pr_verbose(1, "%s: segment %u: %#010x-%#010llx, %u bytes from the file",
		   k->path, i, ph->p_paddr, end, ph->p_filesz);
	if (ph->p_filesz > ph->p_memsz)
		die("%s: corrupt ELF file: segment %u is larger in the file than in memory",
		    k->path, i);
	if ((u64)ph->p_offset + ph->p_filesz > k->elf_size)
		die("%s: truncated ELF file: segment %u ends beyond the end",
		    k->path, i);
	/* Below 2 MiB are the boot data and the initial page tables. */
	if (ph->p_paddr < LG_KERNEL_MIN)
		die("%s: segment %u at %#x is below 2 MiB", k->path, i,
		    ph->p_paddr);
	if (ph->p_paddr < k->start)
		k->start = ph->p_paddr;
	if (end > k->end)
		k->end = end;
}

static void elf_check_segments(struct lg_kernel *k)
{
	unsigned int i, loads = 0;
	Elf32_Phdr ph;

	k->start = UINT32_MAX;
	k->end = 0;
	for (i = 0; i < k->phnum; i++) {
		elf_phdr(k, i, &ph);
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		elf_check_segment(k, i, &ph);
		loads++;
	}
	if (!loads)
		die("%s: ELF file with nothing to load", k->path);
}

/*
 * Look for the lguest note in the notes @p[0..len).  Each note is a header
 * (namesz, descsz, type) followed by the name and the descriptor, each
 * padded to 4 bytes: that is what Linux's ELFNOTE() emits.  Other notes,
 * including other lguest note types, are skipped.
 */
static bool note_find_entry(struct lg_kernel *k, const u8 *p,
			    size_t len, u32 *entry)
{
	const size_t name_len = sizeof(LGUEST_ELFNOTE_NAME);
	u64 off = 0, name, desc;
	Elf32_Nhdr nh;

	while (off + sizeof(nh) <= len) {
		memcpy(&nh, p + off, sizeof(nh));
		name = off + sizeof(nh);
		desc = name + align4(nh.n_namesz);
		if (desc + nh.n_descsz > len)
			die("%s: corrupt ELF note at offset %#llx of its segment",
			    k->path, off);
		if (nh.n_namesz == name_len && nh.n_type == LGUEST_ELFNOTE_ENTRY &&
		    !memcmp(p + name, LGUEST_ELFNOTE_NAME, name_len)) {
			if (nh.n_descsz != 4)
				die("%s: lguest ELF note with %u bytes of data, need 4",
				    k->path, nh.n_descsz);
			*entry = get_le32(p + desc);
			return true;
		}
		off = desc + align4(nh.n_descsz);
	}
	return false;
}

static bool in_loaded_segment(const struct lg_kernel *k, u32 addr)
{
	unsigned int i;
	Elf32_Phdr ph;

	for (i = 0; i < k->phnum; i++) {
		elf_phdr(k, i, &ph);
		if (ph.p_type == PT_LOAD && addr >= ph.p_paddr &&
		    addr - ph.p_paddr < ph.p_filesz)
			return true;
	}
	return false;
}

static void elf_find_entry(struct lg_kernel *k)
{
	unsigned int i;
	Elf32_Phdr ph;

	for (i = 0; i < k->phnum; i++) {
		elf_phdr(k, i, &ph);
		if (ph.p_type != PT_NOTE)
			continue;
		if ((u64)ph.p_offset + ph.p_filesz > k->elf_size)
			die("%s: truncated ELF file: notes beyond the end",
			    k->path);
		if (note_find_entry(k, k->elf + ph.p_offset, ph.p_filesz,
				    &k->entry))
			break;
	}
	if (i == k->phnum)
		die("%s: kernel has no lguest support (no lguest ELF note)",
		    k->path);
	if (!in_loaded_segment(k, k->entry))
		die("%s: lguest entry point %#x is not in the loaded kernel",
		    k->path, k->entry);
	pr_verbose(1, "%s: lguest entry point %#x", k->path, k->entry);
}

/* Read and check the kernel image at @path. */
void kernel_open(struct lg_kernel *k, const char *path)
{
	size_t size;
	u8 *f;

	k->path = path;
	f = read_file(path, LGUEST_MAX_MEM_SIZE, &size);
	if (is_elf(f, size)) {
		k->elf = f;
		k->elf_size = size;
	} else if (is_bzimage(f, size)) {
		bzimage_open(k, f, size);
		free(f);
	} else {
		die("%s: not a kernel image", path);
	}
	elf_check_header(k);
	elf_check_segments(k);
	elf_find_entry(k);

	k->cmdline_max = LG_CMDLINE_MAX;
	if (k->bzimage && k->hdr.version >= BZ_CMDLINE_VERSION &&
	    k->hdr.cmdline_size < k->cmdline_max)
		k->cmdline_max = k->hdr.cmdline_size;
}

/*
 * Copy the kernel's segments to their physical addresses, which
 * boot_check() has checked against guest memory.  The rest of each
 * segment (its .bss) is left as it is: fresh anonymous memory, all zero.
 */
void kernel_load(const struct lg_kernel *k, u8 *mem)
{
	unsigned int i;
	Elf32_Phdr ph;

	for (i = 0; i < k->phnum; i++) {
		elf_phdr(k, i, &ph);
		if (ph.p_type == PT_LOAD && ph.p_memsz)
			memcpy(mem + ph.p_paddr, k->elf + ph.p_offset,
			       ph.p_filesz);
	}
}
