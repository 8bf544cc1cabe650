#include "net/tls_context.h"

#include <cctype>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/openssl_error.h"

namespace brelay::net {
namespace {

struct SslCtxFree {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

Result<SslCtxPtr> new_context(const SSL_METHOD* method) {
  SslCtxPtr context(SSL_CTX_new(method));
  if (!context) return openssl_error("creating a TLS context");
  SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(context.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // Large writes go out as full-size records; no buffer is kept while a connection is idle.
  SSL_CTX_set_mode(context.get(), SSL_MODE_RELEASE_BUFFERS);
  return context;
}

}  // namespace

Result<TlsMode> parse_tls_mode(std::string_view text) {
  if (text == "disabled") return TlsMode::kDisabled;
  if (text == "preferred") return TlsMode::kPreferred;
  if (text == "required") return TlsMode::kRequired;
  if (text == "verify_ca") return TlsMode::kVerifyCa;
  if (text == "verify_identity") return TlsMode::kVerifyIdentity;
  return make_error("unknown TLS mode '{}': use disabled, preferred, required, verify_ca or verify_identity",
                    text);
}

Result<TlsVersion> parse_tls_version(std::string_view text) {
  std::string lower(text);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "tlsv1.2" || lower == "1.2") return TlsVersion::kTls12;
  if (lower == "tlsv1.3" || lower == "1.3") return TlsVersion::kTls13;
  if (lower == "tlsv1" || lower == "tlsv1.0" || lower == "tlsv1.1" || lower == "1.0" || lower == "1.1" ||
      lower.starts_with("ssl")) {
    return make_error("'{}' is too old (broken or deprecated by RFC 8996): use \"TLSv1.2\" or \"TLSv1.3\"",
                      text);
  }
  return make_error("'{}' is not a TLS version: use \"TLSv1.2\" or \"TLSv1.3\"", text);
}

std::string_view tls_version_name(TlsVersion version) {
  return version == TlsVersion::kTls13 ? "TLSv1.3" : "TLSv1.2";
}

Status check_tls_ciphers(const std::string& ciphers) {
  ERR_clear_error();
  BRELAY_ASSIGN_OR_RETURN(auto context, new_context(TLS_server_method()));
  if (ciphers.empty() || SSL_CTX_set_cipher_list(context.get(), ciphers.c_str()) != 1) {
    ERR_clear_error();
    return make_error(
        "'{}' names no cipher suite OpenSSL knows: write an OpenSSL cipher list such as \"{}\" (see "
        "`openssl ciphers -v '<list>'`)",
        ciphers, kDefaultTlsCiphers);
  }
  return {};
}

std::string_view tls_mode_name(TlsMode mode) {
  switch (mode) {
    case TlsMode::kDisabled: return "disabled";
    case TlsMode::kPreferred: return "preferred";
    case TlsMode::kRequired: return "required";
    case TlsMode::kVerifyCa: return "verify_ca";
    case TlsMode::kVerifyIdentity: return "verify_identity";
  }
  return "unknown";
}

TlsContext::TlsContext(SSL_CTX* context, bool is_server, TlsMode mode, std::string ca_file)
    : context_(context), is_server_(is_server), mode_(mode), ca_file_(std::move(ca_file)) {}

TlsContext::~TlsContext() {
  SSL_CTX_free(context_);
}

Result<std::shared_ptr<const TlsContext>> TlsContext::server(const std::string& certificate_chain_file,
                                                             const std::string& private_key_file,
                                                             const TlsServerPolicy& policy) {
  ERR_clear_error();
  BRELAY_ASSIGN_OR_RETURN(auto context, new_context(TLS_server_method()));
  if (policy.min_version == TlsVersion::kTls13) SSL_CTX_set_min_proto_version(context.get(), TLS1_3_VERSION);
  if (SSL_CTX_set_cipher_list(context.get(), policy.ciphers.c_str()) != 1)
    return openssl_error(fmt::format("setting the TLS 1.2 cipher list '{}'", policy.ciphers));
  // The server picks the suite (its forward-secret order), and DHE suites get OpenSSL's built-in
  // groups sized to the certificate's key.
  SSL_CTX_set_options(context.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_dh_auto(context.get(), 1);
  if (SSL_CTX_use_certificate_chain_file(context.get(), certificate_chain_file.c_str()) != 1)
    return openssl_error(fmt::format("loading the TLS certificate chain {}", certificate_chain_file));
  if (SSL_CTX_use_PrivateKey_file(context.get(), private_key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return openssl_error(fmt::format("loading the TLS private key {}", private_key_file));
  if (SSL_CTX_check_private_key(context.get()) != 1) {
    return openssl_error(fmt::format("the TLS private key {} does not belong to the certificate {}",
                                     private_key_file, certificate_chain_file));
  }
  SSL_CTX_set_session_cache_mode(context.get(), SSL_SESS_CACHE_OFF);
  return std::shared_ptr<const TlsContext>(new TlsContext(context.release(), true, TlsMode::kRequired, {}));
}

Result<std::shared_ptr<const TlsContext>> TlsContext::client(TlsMode mode, const std::string& ca_file) {
  ERR_clear_error();
  BRELAY_ASSIGN_OR_RETURN(auto context, new_context(TLS_client_method()));
  const bool verify = mode == TlsMode::kVerifyCa || mode == TlsMode::kVerifyIdentity;
  if (verify) {
    if (!ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(context.get(), ca_file.c_str(), nullptr) != 1)
        return openssl_error(fmt::format("loading the CA bundle {}", ca_file));
    } else if (SSL_CTX_set_default_verify_paths(context.get()) != 1) {
      return openssl_error("loading the system's trusted CA certificates");
    }
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
  }
  return std::shared_ptr<const TlsContext>(new TlsContext(context.release(), false, mode, ca_file));
}

}  // namespace brelay::net
