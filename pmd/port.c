/* SPDX-License-Identifier: BSD-3-Clause */
#include "port.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bsd/string.h>

#include "e1000.h"

int
port_open(const char *spec, const struct port_conf *conf, struct port **out,
	  char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':');
	struct port *p;
	int rc;

	if (colon == NULL || colon[1] == '\0') {
		snprintf(err, errlen, "port '%s': expected DRIVER:ARGS, e.g. "
			 "dpdk:net_af_packet0,iface=veth0", spec);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "port '%s': out of memory", spec);
		return -ENOMEM;
	}
	strlcpy(p->spec, spec, sizeof(p->spec));
	if ((size_t)(colon - spec) == 4 && strncmp(spec, "dpdk", 4) == 0) {
		rc = ethdev_port_open(colon + 1, conf, p, err, errlen);
	} else if ((size_t)(colon - spec) == 5 && strncmp(spec, "e1000", 5) == 0) {
		rc = e1000_port_open(colon + 1, conf, p, err, errlen);
	} else if ((size_t)(colon - spec) == 3 && strncmp(spec, "tap", 3) == 0) {
		rc = tap_port_open(colon + 1, conf, p, err, errlen);
	} else if ((size_t)(colon - spec) == 3 && strncmp(spec, "xdp", 3) == 0) {
#ifdef PN_HAVE_XDP
		rc = xdp_port_open(colon + 1, conf, p, err, errlen);
#else
		snprintf(err, errlen, "port '%s': this pollnet was built without xdp: "
			 "(meson found no clang or libbpf)", spec);
		rc = -ENOTSUP;
#endif
	} else {
		snprintf(err, errlen, "port '%s': unknown driver '%.*s' (known: dpdk, e1000, tap, xdp)",
			 spec, (int)(colon - spec), spec);
		rc = -EINVAL;
	}
	if (rc < 0) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void
port_close(struct port *p)
{
	if (p == NULL)
		return;
	p->ops->close(p);
	free(p);
}

int
port_kernel_reserve(rte_be32_t ip, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = ip };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}
