// OpenSSL's thread-local error queue as an Error value: "<what>: <reasons>", the queue cleared.
#pragma once

#include <string_view>

#include "common/result.h"

namespace brelay::net {

Error openssl_error(std::string_view what);
// The reasons in the queue ("" when empty), the queue cleared.
std::string drain_openssl_errors();

}  // namespace brelay::net
