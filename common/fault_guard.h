// Reading mapped file bytes that may have vanished. A read of a shared file map beyond the file's
// current end (the file was cut short after it was mapped) raises SIGBUS; read_guarded() turns that
// into a false return on the thread that did the read, so a damaged store is an error, not a crash.
//
// The scope is narrow on purpose: `read` runs with a handler armed for this thread only, and must
// be plain memory reading that takes no lock, allocates nothing and leaves no object with a
// non-trivial destructor behind when it is abandoned mid-way (a checksum over the bytes). A SIGBUS
// outside a guarded read, and every SIGSEGV, keeps its usual effect (the previous disposition is
// restored and the fault happens again). A SIGBUS that no fault raised (kill(), sigqueue(): si_code
// <= 0) is never taken for a fault, inside a guarded read or not: it gets the previous disposition's
// effect (by default the process ends). The handler is installed process-wide at the first call.
//
// What is guarded on the serve and export paths: the first read of every stored event's bytes
// (relay/core/stored_event_check: the CRC32 over the whole event, or for files without checksums a
// read of each of its memory pages). The reads that follow (decoding, copying into packets or the
// export file) are not guarded: they are of the same bytes, on the same thread, right after, and
// the relay itself never shortens an event file while it serves (store recovery truncates torn
// tails only at open, before any reader). A file cut short from outside in that gap of
// microseconds still raises SIGBUS; guarding those reads too would mean a guarded copy of every
// event (twice the memory traffic of serving) for a window that only outside damage can hit.
#pragma once

namespace brelay {

// Calls read(context); false when it raised SIGBUS (what it wrote before is partial).
bool read_guarded(void (*read)(void* context), void* context);

}  // namespace brelay
