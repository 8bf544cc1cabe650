// TLS settings shared by many connections (an SSL_CTX): the server's certificate chain and key, or a
// client's verification mode and CA bundle. TLS 1.2 is the minimum; a server offers only
// forward-secret cipher suites by default (TlsServerPolicy). A TlsContext is immutable once
// made and shared through std::shared_ptr: reloading certificates means making a new context; the
// sessions started on the old one keep it alive. Creation may run on any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

using SSL_CTX = struct ssl_ctx_st;  // as <openssl/types.h> declares it

namespace brelay::net {

// How a client uses TLS (the names are the configuration's and MySQL's --ssl-mode values).
enum class TlsMode {
  kDisabled,        // never
  kPreferred,       // when the server offers it; certificate not checked
  kRequired,        // always; certificate not checked
  kVerifyCa,        // always; the chain must verify against the CA bundle
  kVerifyIdentity,  // as kVerifyCa, and the certificate must name the host connected to
};

Result<TlsMode> parse_tls_mode(std::string_view text);
std::string_view tls_mode_name(TlsMode mode);

// The lowest protocol version a server accepts ([server] tls_min_version).
enum class TlsVersion { kTls12, kTls13 };
// "TLSv1.2" or "TLSv1.3" (any letter case, "1.2" and "1.3" too); older versions are refused with a
// message saying why.
Result<TlsVersion> parse_tls_version(std::string_view text);
std::string_view tls_version_name(TlsVersion version);

// Ephemeral (EC)DH key exchange with AEAD ciphers only: a recorded session stays secret when the
// server's key leaks later. No static-RSA (AES128-SHA), CBC, RC4 or 3DES suites.
inline constexpr std::string_view kDefaultTlsCiphers = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20";

// What a server context accepts. `ciphers` is an OpenSSL cipher list for TLS 1.2; TLS 1.3 suites
// are all forward secret and keep OpenSSL's defaults.
struct TlsServerPolicy {
  TlsVersion min_version = TlsVersion::kTls12;
  std::string ciphers = std::string(kDefaultTlsCiphers);
};
// Checks that OpenSSL understands `ciphers` and that it names at least one suite; errors say so.
Status check_tls_ciphers(const std::string& ciphers);

class TlsContext {
 public:
  // A server context from PEM files: the certificate chain (leaf first) and its private key.
  static Result<std::shared_ptr<const TlsContext>> server(const std::string& certificate_chain_file,
                                                          const std::string& private_key_file,
                                                          const TlsServerPolicy& policy = {});
  // A client context. `ca_file` is the CA bundle for kVerifyCa / kVerifyIdentity (empty: the
  // system's trust store); it is ignored by the other modes.
  static Result<std::shared_ptr<const TlsContext>> client(TlsMode mode, const std::string& ca_file = {});

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* raw() const { return context_; }
  bool is_server() const { return is_server_; }
  TlsMode mode() const { return mode_; }
  const std::string& ca_file() const { return ca_file_; }

 private:
  TlsContext(SSL_CTX* context, bool is_server, TlsMode mode, std::string ca_file);

  SSL_CTX* context_;  // owned
  bool is_server_;
  TlsMode mode_;
  std::string ca_file_;
};

}  // namespace brelay::net
