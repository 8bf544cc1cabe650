// Test PKI generated with OpenSSL at run time (nothing is committed): a CA, a server certificate for
// localhost / 127.0.0.1 / ::1 signed by it, a client certificate, and an unrelated second CA for
// "wrong CA" tests. All PEM files in one directory.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "tests/support/temp_dir.h"

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

// A temporary directory holding a freshly generated test PKI: the setup TLS test suites share. Made
// once per suite (generating keys takes a while), typically as
//   static void SetUpTestSuite() { auto tls = TlsTestDir::create("net-x"); ASSERT_TRUE(tls) << ...;
//                                  tls_ = std::move(*tls); }
//   static void TearDownTestSuite() { tls_.reset(); }
//   static inline std::unique_ptr<TlsTestDir> tls_;
// The directory, with the certificates, goes away with the object.
class TlsTestDir {
 public:
  // $TMPDIR/brelay-<label>-XXXXXX with generate_test_certificates() written into it.
  static Result<std::unique_ptr<TlsTestDir>> create(std::string_view label, int days = 30);

  const std::string& path() const { return dir_.path(); }
  std::string file(std::string_view name) const { return dir_.file(name); }
  const TestCertificates& certs() const { return certs_; }

 private:
  TlsTestDir(TempDir dir, TestCertificates certs) : dir_(std::move(dir)), certs_(std::move(certs)) {}

  TempDir dir_;
  TestCertificates certs_;
};

}  // namespace brelay::testing
