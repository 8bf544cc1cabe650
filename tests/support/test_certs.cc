#include "tests/support/test_certs.h"

#include <memory>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace brelay::testing {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

Error openssl_error(std::string_view what) {
  char buffer[256] = "unknown error";
  if (unsigned long code = ERR_get_error(); code != 0) ERR_error_string_n(code, buffer, sizeof(buffer));
  ERR_clear_error();
  return make_error("{}: {}", what, buffer);
}

Result<PkeyPtr> new_key() {
  PkeyPtr key(EVP_RSA_gen(2048));
  if (!key) return openssl_error("generating an RSA key");
  return key;
}

Status add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return openssl_error(fmt::format("making extension {}", value));
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (!ok) return openssl_error("adding an extension");
  return {};
}

// Makes a certificate for `key`; self-signed when issuer is null.
Result<X509Ptr> make_certificate(EVP_PKEY* key, const std::string& common_name, X509* issuer,
                                 EVP_PKEY* issuer_key, bool is_ca, const std::string& sans, int days) {
  static long serial = 1;
  X509Ptr cert(X509_new());
  if (!cert) return openssl_error("X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial + time(nullptr) % 100000 * 1000);
  if (days >= 0) {
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  } else {
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(days - 1) * 86400);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  }
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("binlog-relay tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (is_ca) {
    BRELAY_TRY(add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE"));
    BRELAY_TRY(add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    BRELAY_TRY(add_extension(cert.get(), signer, NID_basic_constraints, "CA:FALSE"));
    BRELAY_TRY(add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment"));
    BRELAY_TRY(add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth"));
  }
  BRELAY_TRY(add_extension(cert.get(), signer, NID_subject_key_identifier, "hash"));
  if (issuer != nullptr) {
    BRELAY_TRY(add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always"));
  }
  if (!sans.empty()) BRELAY_TRY(add_extension(cert.get(), signer, NID_subject_alt_name, sans));
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    return openssl_error("signing a certificate");
  }
  return cert;
}

Status write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio) return openssl_error(fmt::format("opening {}", path));
  const int ok = cert != nullptr
                     ? PEM_write_bio_X509(bio.get(), cert)
                     : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  if (!ok) return openssl_error(fmt::format("writing {}", path));
  return {};
}

Result<PkeyPtr> read_key(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return openssl_error(fmt::format("opening {}", path));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return openssl_error(fmt::format("reading {}", path));
  return key;
}

Result<X509Ptr> read_cert(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return openssl_error(fmt::format("opening {}", path));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return openssl_error(fmt::format("reading {}", path));
  return cert;
}

}  // namespace

Result<std::pair<std::string, std::string>> issue_certificate(const TestCertificates& certs,
                                                              const std::string& directory,
                                                              const std::string& common_name,
                                                              const std::string& subject_alt_names,
                                                              int days) {
  BRELAY_ASSIGN_OR_RETURN(PkeyPtr ca_key, read_key(certs.ca_key));
  BRELAY_ASSIGN_OR_RETURN(X509Ptr ca_cert, read_cert(certs.ca_cert));
  BRELAY_ASSIGN_OR_RETURN(PkeyPtr key, new_key());
  BRELAY_ASSIGN_OR_RETURN(X509Ptr cert, make_certificate(key.get(), common_name, ca_cert.get(), ca_key.get(),
                                                         false, subject_alt_names, days));
  std::pair<std::string, std::string> paths{directory + "/" + common_name + "-cert.pem",
                                            directory + "/" + common_name + "-key.pem"};
  BRELAY_TRY(write_pem(paths.first, cert.get(), nullptr));
  BRELAY_TRY(write_pem(paths.second, nullptr, key.get()));
  return paths;
}

Result<TestCertificates> generate_test_certificates(const std::string& directory, int days) {
  TestCertificates out;
  out.ca_cert = directory + "/ca-cert.pem";
  out.ca_key = directory + "/ca-key.pem";
  out.server_cert = directory + "/server-cert.pem";
  out.server_key = directory + "/server-key.pem";
  out.client_cert = directory + "/client-cert.pem";
  out.client_key = directory + "/client-key.pem";
  out.other_ca_cert = directory + "/other-ca-cert.pem";

  BRELAY_ASSIGN_OR_RETURN(PkeyPtr ca_key, new_key());
  BRELAY_ASSIGN_OR_RETURN(X509Ptr ca, make_certificate(ca_key.get(), "binlog-relay test CA", nullptr, nullptr,
                                                       true, "", days + 1));
  BRELAY_TRY(write_pem(out.ca_cert, ca.get(), nullptr));
  BRELAY_TRY(write_pem(out.ca_key, nullptr, ca_key.get()));

  BRELAY_ASSIGN_OR_RETURN(PkeyPtr server_key, new_key());
  BRELAY_ASSIGN_OR_RETURN(X509Ptr server,
                          make_certificate(server_key.get(), "localhost", ca.get(), ca_key.get(), false,
                                           "DNS:localhost,IP:127.0.0.1,IP:::1", days));
  BRELAY_TRY(write_pem(out.server_cert, server.get(), nullptr));
  BRELAY_TRY(write_pem(out.server_key, nullptr, server_key.get()));

  BRELAY_ASSIGN_OR_RETURN(PkeyPtr client_key, new_key());
  BRELAY_ASSIGN_OR_RETURN(X509Ptr client, make_certificate(client_key.get(), "brelay-test-client", ca.get(),
                                                           ca_key.get(), false, "", days));
  BRELAY_TRY(write_pem(out.client_cert, client.get(), nullptr));
  BRELAY_TRY(write_pem(out.client_key, nullptr, client_key.get()));

  BRELAY_ASSIGN_OR_RETURN(PkeyPtr other_key, new_key());
  BRELAY_ASSIGN_OR_RETURN(X509Ptr other, make_certificate(other_key.get(), "unrelated test CA", nullptr,
                                                          nullptr, true, "", days));
  BRELAY_TRY(write_pem(out.other_ca_cert, other.get(), nullptr));
  return out;
}

Result<std::unique_ptr<TlsTestDir>> TlsTestDir::create(std::string_view label, int days) {
  BRELAY_ASSIGN_OR_RETURN(TempDir dir, TempDir::create(label));
  BRELAY_ASSIGN_OR_RETURN(TestCertificates certs, generate_test_certificates(dir.path(), days));
  return std::unique_ptr<TlsTestDir>(new TlsTestDir(std::move(dir), std::move(certs)));
}

}  // namespace brelay::testing
