// TLS settings shared by many connections (an SSL_CTX): the server's certificate chain and key, or a
// client's verification mode and CA bundle. TLS 1.2 is the minimum. A TlsContext is immutable once
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

class TlsContext {
 public:
  // A server context from PEM files: the certificate chain (leaf first) and its private key.
  static Result<std::shared_ptr<const TlsContext>> server(const std::string& certificate_chain_file,
                                                          const std::string& private_key_file);
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
