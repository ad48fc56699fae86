// SPDX-License-Identifier: GPL-2.0
/*
 * The lguest launcher: the list of devices.
 *
 * Every device file registers a struct lg_device_ops from a constructor
 * (the lg_device() macro), before main() runs.  The list is kept sorted by
 * order, so that the hooks run in a fixed order whatever the link order:
 * the hypercall console first, then the virtio devices, then the virtio
 * transport, which places them all.  main.c knows no device by name; it
 * only walks this list: for the options, to start and stop the devices
 * with each guest, and to hand them the exits it does not serve itself.
 *
 * Devices also announce themselves on the guest's command line, with
 * words collected here and put in front of the user's command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lguest.h"

#define MAX_DEVICE_OPS	16

static const struct lg_device_ops *devs[MAX_DEVICE_OPS];
static int nr_devs;
static int first_opt_val;		/* getopt value of the first option */
static char *cmdline_words;

void lg_device_register(const struct lg_device_ops *ops)
{
	int i;

	if (nr_devs == MAX_DEVICE_OPS)
		die("too many kinds of devices (at most %d)", MAX_DEVICE_OPS);
	for (i = nr_devs; i > 0 && devs[i - 1]->order > ops->order; i--)
		devs[i] = devs[i - 1];
	devs[i] = ops;
	nr_devs++;
}

static int nr_options(const struct lg_option *o)
{
	int n = 0;

	while (o && o[n].name)
		n++;
	return n;
}

/*
 * The getopt_long() table: main's own options, then every device's.  A
 * device option's value is @first_val plus its position among them, which
 * devices_parse_option() turns back into the option.
 */
struct option *devices_options(const struct option *core, int first_val)
{
	int ncore = 0, n = 0, i, j;
	struct option *all;

	while (core[ncore].name)
		ncore++;
	for (i = 0; i < nr_devs; i++)
		n += nr_options(devs[i]->options);
	all = xmalloc((ncore + n + 1) * sizeof(*all));
	memcpy(all, core, ncore * sizeof(*all));
	n = ncore;
	for (i = 0; i < nr_devs; i++) {
		for (j = 0; j < nr_options(devs[i]->options); j++) {
			all[n].name = devs[i]->options[j].name;
			all[n].has_arg = devs[i]->options[j].has_arg;
			all[n].flag = NULL;
			all[n].val = first_val + n - ncore;
			n++;
		}
	}
	memset(&all[n], 0, sizeof(*all));
	first_opt_val = first_val;
	return all;
}

/* Hand a device its option; false if @val is not a device option. */
bool devices_parse_option(int val, const char *arg)
{
	int i, k = val - first_opt_val, n;

	if (k < 0)
		return false;
	for (i = 0; i < nr_devs; i++) {
		n = nr_options(devs[i]->options);
		if (k < n) {
			devs[i]->options[k].parse(arg);
			return true;
		}
		k -= n;
	}
	return false;
}

void devices_usage(void)
{
	int i, j;

	for (i = 0; i < nr_devs; i++)
		for (j = 0; j < nr_options(devs[i]->options); j++)
			fputs(devs[i]->options[j].help, stdout);
}

void devices_check(const struct lg_boot *b)
{
	int i;

	for (i = 0; i < nr_devs; i++)
		if (devs[i]->check)
			devs[i]->check(b);
}

void devices_start(struct lg_guest *g)
{
	int i;

	for (i = 0; i < nr_devs; i++)
		if (devs[i]->start)
			devs[i]->start(g);
}

/* In reverse: the transport goes before the devices it serves. */
void devices_stop(struct lg_guest *g)
{
	int i;

	for (i = nr_devs - 1; i >= 0; i--)
		if (devs[i]->stop)
			devs[i]->stop(g);
}

bool devices_hypercall(struct lg_guest *g, struct lguest_run *run)
{
	int i;

	for (i = 0; i < nr_devs; i++)
		if (devs[i]->hypercall && devs[i]->hypercall(g, run))
			return true;
	return false;
}

bool devices_mmio(struct lg_guest *g, struct lguest_run *run)
{
	int i;

	for (i = 0; i < nr_devs; i++)
		if (devs[i]->mmio && devs[i]->mmio(g, run))
			return true;
	return false;
}

/* One more word for the guest's command line, in front of the user's. */
void lg_cmdline_add(const char *word)
{
	size_t len = cmdline_words ? strlen(cmdline_words) : 0;
	size_t wlen = strlen(word);

	cmdline_words = xrealloc(cmdline_words, len + wlen + 2);
	if (len)
		cmdline_words[len++] = ' ';
	memcpy(cmdline_words + len, word, wlen + 1);
}

const char *lg_cmdline_words(void)
{
	return cmdline_words ? cmdline_words : "";
}
