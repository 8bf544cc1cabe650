#include "relay/checks/certificate_info.h"

#include <cstdio>
#include <ctime>
#include <memory>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace brelay::relay {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x509) const { X509_free(x509); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no PEM block found";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

Result<std::int64_t> unix_time(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return make_error("an unreadable validity date");
  return static_cast<std::int64_t>(timegm(&tm));
}

// An encrypted key cannot be used by the relay either; never prompt for its passphrase.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

}  // namespace

Result<CertificateInfo> inspect_certificate(const std::string& certificate_file,
                                            const std::string& key_file) {
  ERR_clear_error();
  std::unique_ptr<BIO, BioFree> cert_bio(BIO_new_file(certificate_file.c_str(), "r"));
  if (!cert_bio) return make_error("cannot read {}: {}", certificate_file, openssl_reason());
  std::unique_ptr<X509, X509Free> leaf(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) return make_error("{} holds no PEM certificate: {}", certificate_file, openssl_reason());
  CertificateInfo info;
  info.chain_length = 1;
  while (std::unique_ptr<X509, X509Free>(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)))
    info.chain_length += 1;
  ERR_clear_error();  // the end of the file reads as an error

  char subject[512];
  X509_NAME_oneline(X509_get_subject_name(leaf.get()), subject, sizeof(subject));
  info.subject = subject;
  if (!info.subject.empty() && info.subject.front() == '/') info.subject.erase(0, 1);
  BRELAY_ASSIGN_OR_RETURN(info.not_before, unix_time(X509_get0_notBefore(leaf.get())));
  BRELAY_ASSIGN_OR_RETURN(info.not_after, unix_time(X509_get0_notAfter(leaf.get())));

  std::unique_ptr<BIO, BioFree> key_bio(BIO_new_file(key_file.c_str(), "r"));
  if (!key_bio) return make_error("cannot read {}: {}", key_file, openssl_reason());
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) return make_error("{} holds no PEM private key: {}", key_file, openssl_reason());
  info.key_matches = X509_check_private_key(leaf.get(), key.get()) == 1;
  ERR_clear_error();
  return info;
}

}  // namespace brelay::relay
