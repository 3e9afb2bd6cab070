// Helpers for VXTune: the SIOCETHTOOL ioctl (ifreq union + variadic ioctl are
// awkward from Swift), and entering a network namespace for namespace-scoped
// inspection (setns/mount through syscall(2) so no header here clashes with
// linux/mount.h). Header-only.
#ifndef CLK_TUNE_H
#define CLK_TUNE_H

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <net/if.h>
#include <linux/sockios.h>

/// SIOCETHTOOL on `fd` for `ifname` with `cmd` (an ethtool_* struct whose first
/// field is the command). Returns the ioctl's non-negative result or -errno.
static inline int clk_ethtool_ioctl(int fd, const char *ifname, void *cmd) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    ifr.ifr_data = cmd;
    int rc = ioctl(fd, SIOCETHTOOL, &ifr);
    return rc < 0 ? -errno : rc;
}

/// setns(2) for the calling thread only. Returns 0 or -errno.
static inline int clk_setns_net(int fd) {
    return syscall(SYS_setns, fd, 0x40000000 /* CLONE_NEWNET */) < 0 ? -errno : 0;
}

/// Mounts a sysfs instance at `target`; it shows the network devices of the
/// calling thread's network namespace. Returns 0 or -errno.
static inline int clk_mount_sysfs(const char *target) {
    return syscall(SYS_mount, "sysfs", target, "sysfs", 0UL, (void *)0) < 0 ? -errno : 0;
}

/// umount2(target, MNT_DETACH). Returns 0 or -errno.
static inline int clk_umount_detach(const char *target) {
    return syscall(SYS_umount2, target, 2 /* MNT_DETACH */) < 0 ? -errno : 0;
}

#endif
