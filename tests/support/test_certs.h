// Test PKI generated with OpenSSL at run time (nothing is committed): a CA, a server certificate for
// localhost / 127.0.0.1 / ::1 signed by it, a client certificate, and an unrelated second CA for
// "wrong CA" tests. All PEM files in one directory.
#pragma once

#include <string>

#include "common/result.h"

namespace brelay::testing {

struct TestCertificates {
  std::string ca_cert;  // CA certificate (PEM path)
  std::string ca_key;
  std::string server_cert;  // CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1
  std::string server_key;
  std::string client_cert;  // CN=brelay-test-client
  std::string client_key;
  std::string other_ca_cert;  // a CA that signed nothing here
};

// Writes the files into `directory` (which must exist); `days` is the validity period.
Result<TestCertificates> generate_test_certificates(const std::string& directory, int days = 30);

// Writes a certificate for `common_name` signed by the CA in `certs`, valid for `days` (may be
// negative for an expired one); returns {cert path, key path}.
Result<std::pair<std::string, std::string>> issue_certificate(const TestCertificates& certs,
                                                              const std::string& directory,
                                                              const std::string& common_name,
                                                              const std::string& subject_alt_names, int days);

}  // namespace brelay::testing
