/* SPDX-License-Identifier: GPL-2.0-only */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM lguest

#if !defined(_LGUEST_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _LGUEST_TRACE_H

#include <linux/tracepoint.h>

/* Every time a guest stops running: why (the trap), and where. */
TRACE_EVENT(lguest_exit,
	    TP_PROTO(u32 trapnum, u32 errcode, u32 eip),
	    TP_ARGS(trapnum, errcode, eip),
	    TP_STRUCT__entry(__field(u32, trapnum)
			     __field(u32, errcode)
			     __field(u32, eip)),
	    TP_fast_assign(__entry->trapnum = trapnum;
			   __entry->errcode = errcode;
			   __entry->eip = eip;),
	    TP_printk("trap %u error %#x eip %#x",
		      __entry->trapnum, __entry->errcode, __entry->eip)
);

#endif /* _LGUEST_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
