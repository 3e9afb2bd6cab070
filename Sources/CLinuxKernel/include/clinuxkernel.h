// Linux uapi headers that Glibc's module does not expose: ethtool ioctls,
// rtnetlink (routes, neighbours, links), sockios. Header-only; no library.
#ifndef CLINUXKERNEL_H
#define CLINUXKERNEL_H

#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/types.h>
#include <linux/sockios.h>
#include <linux/ethtool.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/neighbour.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/if_packet.h>

// Netlink alignment macros are not importable into Swift; these are.
static inline uint32_t clk_nlmsg_align(uint32_t len) { return NLMSG_ALIGN(len); }
static inline uint32_t clk_rta_align(uint32_t len) { return RTA_ALIGN(len); }
static inline uint32_t clk_nlmsg_hdrlen(void) { return NLMSG_HDRLEN; }

// struct ifreq's union members are awkward from Swift; these fill it in.
static inline void clk_ifreq_set_data(struct ifreq *ifr, void *data) { ifr->ifr_data = data; }
static inline int clk_ifreq_get_ifindex(const struct ifreq *ifr) { return ifr->ifr_ifindex; }

#endif
