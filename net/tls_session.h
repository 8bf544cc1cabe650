// One TLS connection over memory BIOs, independent of the socket (h2o style): ciphertext from the
// peer goes in with receive(), plaintext comes out; plaintext goes in with send(), ciphertext for
// the peer collects in output(). The caller writes output() to the socket after every call.
// Both roles; the handshake runs inside receive() (and start() for a client). One thread at a time.
#pragma once

#include <memory>
#include <string>

#include "common/bytes.h"
#include "common/result.h"
#include "net/tls_context.h"

using SSL = struct ssl_st;  // as <openssl/types.h> declares them
using BIO = struct bio_st;

namespace brelay::net {

class TlsSession {
 public:
  static Result<std::unique_ptr<TlsSession>> server(std::shared_ptr<const TlsContext> context);
  // `host` is what the client connected to: sent as SNI when it is a name, and checked against the
  // certificate in kVerifyIdentity mode.
  static Result<std::unique_ptr<TlsSession>> client(const std::shared_ptr<const TlsContext>& context,
                                                    const std::string& host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Client: produces the ClientHello (in output()).
  Status start();

  // Feeds ciphertext from the peer; decrypted application data is appended to `plaintext`. Errors
  // are handshake failures (with the verification result spelled out) and broken records.
  Status receive(ByteView ciphertext, Bytes& plaintext);
  // Encrypts application data (only after the handshake).
  Status send(ByteView plaintext);
  // Queues a close_notify alert.
  void shutdown();

  // Ciphertext waiting for the socket; consume_output() after it has been written.
  ByteView output() const;
  void consume_output();

  bool handshake_done() const { return handshake_done_; }
  bool peer_closed() const { return peer_closed_; }
  std::string version() const;  // "TLSv1.3"
  std::string cipher() const;

 private:
  TlsSession(std::shared_ptr<const TlsContext> context, SSL* ssl, BIO* input, BIO* output, std::string host);
  Status continue_handshake();
  Error handshake_error(int ssl_error);

  std::shared_ptr<const TlsContext> context_;
  SSL* ssl_;     // owned; owns both BIOs
  BIO* input_;   // ciphertext from the peer
  BIO* output_;  // ciphertext for the peer
  std::string host_;
  bool handshake_done_ = false;
  bool peer_closed_ = false;
};

}  // namespace brelay::net
