#include "relay/tools/azure_tls.h"

#include <memory>
#include <vector>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace brelay::relay {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct StoreFree {
  void operator()(X509_STORE* store) const { X509_STORE_free(store); }
};
struct StoreContextFree {
  void operator()(X509_STORE_CTX* context) const { X509_STORE_CTX_free(context); }
};
struct ChainFree {
  void operator()(STACK_OF(X509) * chain) const { sk_X509_pop_free(chain, X509_free); }
};
using Certificate = std::unique_ptr<X509, X509Free>;

// The certificates of a PEM file, leaf first.
Result<std::vector<Certificate>> read_chain(const std::string& path) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return make_error("cannot read {}", path);
  std::vector<Certificate> chain;
  while (Certificate cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)})
    chain.push_back(std::move(cert));
  ERR_clear_error();  // the read that ended the loop
  if (chain.empty()) return make_error("{} holds no PEM certificate", path);
  return chain;
}

}  // namespace

Status verify_relay_certificate(const std::string& ca_pem, const std::string& certificate_file) {
  BRELAY_ASSIGN_OR_RETURN(std::vector<Certificate> chain, read_chain(certificate_file));
  std::unique_ptr<X509_STORE, StoreFree> anchors(X509_STORE_new());
  std::unique_ptr<BIO, BioFree> ca_bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  if (!anchors || !ca_bio) return make_error("OpenSSL is out of memory");
  int added = 0;
  while (Certificate ca{PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr)}) {
    if (X509_STORE_add_cert(anchors.get(), ca.get()) == 1) ++added;
  }
  ERR_clear_error();
  if (added == 0) return make_error("the CA holds no certificate OpenSSL can read");
  std::unique_ptr<STACK_OF(X509), ChainFree> intermediates(sk_X509_new_null());
  for (std::size_t i = 1; i < chain.size(); ++i) {
    X509_up_ref(chain[i].get());
    sk_X509_push(intermediates.get(), chain[i].get());
  }
  std::unique_ptr<X509_STORE_CTX, StoreContextFree> context(X509_STORE_CTX_new());
  if (!context ||
      X509_STORE_CTX_init(context.get(), anchors.get(), chain.front().get(), intermediates.get()) != 1)
    return make_error("OpenSSL cannot set up a verification");
  if (X509_verify_cert(context.get()) == 1) return {};
  const int code = X509_STORE_CTX_get_error(context.get());
  return make_error(
      "the target would not accept the relay's certificate ({}) with this CA: {}. Give the CA that issued "
      "it with --ca (for a certificate signed by a CA, [server] tls_cert's chain alone does not do)",
      certificate_file, X509_verify_cert_error_string(code));
}

bool certificate_names_host(const std::string& certificate_file, const std::string& host) {
  auto chain = read_chain(certificate_file);
  if (!chain) return false;
  X509* leaf = chain->front().get();
  if (X509_check_ip_asc(leaf, host.c_str(), 0) == 1) return true;
  return X509_check_host(leaf, host.c_str(), host.size(), 0, nullptr) == 1;
}

}  // namespace brelay::relay
