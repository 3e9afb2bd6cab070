#ifndef CMALLOCCOUNTER_H
#define CMALLOCCOUNTER_H
#include <stdint.h>
/// Number of malloc/calloc/realloc/posix_memalign/aligned_alloc/memalign calls so far
/// in this process (the executable's definitions of these symbols interpose glibc's).
uint64_t vxbench_malloc_calls(void);
#endif
