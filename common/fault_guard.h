// Reading mapped file bytes that may have vanished. A read of a shared file map beyond the file's
// current end (the file was cut short after it was mapped) raises SIGBUS; read_guarded() turns that
// into a false return on the thread that did the read, so a damaged store is an error, not a crash.
//
// The scope is narrow on purpose: `read` runs with a handler armed for this thread only, and must
// be plain memory reading that takes no lock, allocates nothing and leaves no object with a
// non-trivial destructor behind when it is abandoned mid-way (a checksum over the bytes). A SIGBUS
// outside a guarded read, and every SIGSEGV, keeps its usual effect (the previous disposition is
// restored and the fault happens again). The handler is installed process-wide at the first call.
#pragma once

namespace brelay {

// Calls read(context); false when it raised SIGBUS (what it wrote before is partial).
bool read_guarded(void (*read)(void* context), void* context);

}  // namespace brelay
