// Process-wide allocator settings for processes that move bulk messages.
#ifndef PSREC_COMMON_MALLOC_TUNING_H_
#define PSREC_COMMON_MALLOC_TUNING_H_

namespace psrec {

// Keeps freed megabyte-sized buffers (request and response payloads) in the
// heap for reuse instead of returning them to the kernel after every request.
// With glibc's defaults each 1-13 MB push or pull buffer was a fresh mmap (or
// a trimmed heap top), so every request paid page faults and zeroing on its
// whole payload: about a quarter of the wire benchmark's client time.
// Call once, first thing in main.
void TuneMallocForBulkMessages();

}  // namespace psrec

#endif  // PSREC_COMMON_MALLOC_TUNING_H_
