/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every version of pollnet's ABIs, in one table.  pollnet and its readers
 * and clients are built together, and each side checks the other's number
 * before it reads anything else: a number that differs is a reader or a
 * client from another build, refused (EPROTONOSUPPORT, or "not a segment
 * this build understands").  A change to a layout, a field's meaning or a
 * message bumps its number.
 *
 *   ABI                          header          number             checked by
 *   ---------------------------  --------------  -----------------  --------------------------
 *   a socket's region; the       pn_region.h     PN_SHM_VERSION     libpollnet (at attach, and
 *   session's state page                                            the state page at HELLO)
 *   the control channel          pn_control.h    PN_CTL_VERSION     pollnet (HELLO)
 *   the stats segment, its log   pn_stats.h,     PN_STATS_VERSION   pollnetctl, telemetry,
 *   and its counters             pn_counters.h                      pollnet (--dump)
 *   a capture region             pn_capture.h    PN_CAP_VERSION     pollnetctl capture (magic)
 */
#ifndef PN_ABI_VERSIONS_H
#define PN_ABI_VERSIONS_H

#define PN_SHM_VERSION    9
#define PN_CTL_VERSION    7
#define PN_STATS_VERSION  13
#define PN_CAP_VERSION    1
#define PN_CAP_VERSION_STR "1"          /* in PN_CAP_MAGIC, "PNCAPT1" */

#endif
