#include "net/openssl_error.h"

#include <openssl/err.h>

namespace brelay::net {

std::string drain_openssl_errors() {
  std::string reasons;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!reasons.empty()) reasons += "; ";
    reasons += buffer;
  }
  return reasons;
}

Error openssl_error(std::string_view what) {
  std::string reasons = drain_openssl_errors();
  if (reasons.empty()) reasons = "no detail from OpenSSL";
  return make_error("{}: {}", what, reasons);
}

}  // namespace brelay::net
