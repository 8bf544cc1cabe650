// systemd readiness notification (Type=notify): sends "READY=1", "RELOADING=1", "STOPPING=1" or
// "STATUS=..." to the datagram socket named by $NOTIFY_SOCKET. Without that variable (not started by
// systemd) it does nothing. Hand-written rather than linking libsystemd: the protocol is one
// datagram and the relay should not need libsystemd to run in a container.
#pragma once

#include <string_view>

#include "common/result.h"

namespace brelay::relay {

// Sends `state` (newline-separated assignments) to $NOTIFY_SOCKET; a no-op without it. Never
// blocks: when the receiver's queue is full the notification is dropped (an error with code EAGAIN).
Status sd_notify(std::string_view state);

}  // namespace brelay::relay
