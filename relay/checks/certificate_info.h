// What `binlog-relay check` needs to know about the relay's own TLS certificate ([server]
// tls_cert / tls_key): the leaf's subject and validity period and whether the key belongs to it.
// Uses OpenSSL; any thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace brelay::relay {

struct CertificateInfo {
  std::string subject;           // e.g. "CN=relay.example.com"
  std::int64_t not_before = 0;   // Unix seconds
  std::int64_t not_after = 0;    // Unix seconds
  std::size_t chain_length = 0;  // certificates in the PEM file
  bool key_matches = false;      // the private key is the leaf certificate's
};

// Reads the PEM chain (leaf first) and the private key. Errors: a file that cannot be read, or
// holds no certificate or no private key (naming the file and OpenSSL's reason).
Result<CertificateInfo> inspect_certificate(const std::string& certificate_file, const std::string& key_file);

}  // namespace brelay::relay
