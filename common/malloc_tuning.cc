#include "common/malloc_tuning.h"

#include <malloc.h>

namespace psrec {

void TuneMallocForBulkMessages() {
#ifdef M_MMAP_THRESHOLD
  // 32 MB is glibc's largest mmap threshold; a 100k x 32 payload is 12.8 MB.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  // Up to this much free memory at the top of a heap is kept, per arena.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

}  // namespace psrec
