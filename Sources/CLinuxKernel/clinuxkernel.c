#define _GNU_SOURCE
#include <sched.h>
#include "clinuxkernel.h"

int clk_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }
