#include "net/tls_session.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net/openssl_error.h"
#include "net/socket_address.h"

namespace brelay::net {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;

}  // namespace

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context, SSL* ssl, BIO* input, BIO* output,
                       std::string host)
    : context_(std::move(context)), ssl_(ssl), input_(input), output_(output), host_(std::move(host)) {}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
}

namespace {

Result<SSL*> new_ssl(const TlsContext& context, BIO*& input, BIO*& output) {
  SSL* ssl = SSL_new(context.raw());
  if (ssl == nullptr) return openssl_error("creating a TLS session");
  input = BIO_new(BIO_s_mem());
  output = BIO_new(BIO_s_mem());
  if (input == nullptr || output == nullptr) {
    BIO_free(input);
    BIO_free(output);
    SSL_free(ssl);
    return openssl_error("creating TLS buffers");
  }
  // An empty input BIO means "wait for more", not end of file.
  BIO_set_mem_eof_return(input, -1);
  SSL_set_bio(ssl, input, output);
  return ssl;
}

}  // namespace

Result<std::unique_ptr<TlsSession>> TlsSession::server(std::shared_ptr<const TlsContext> context) {
  ERR_clear_error();
  BIO* input = nullptr;
  BIO* output = nullptr;
  BRELAY_ASSIGN_OR_RETURN(SSL * ssl, new_ssl(*context, input, output));
  SSL_set_accept_state(ssl);
  return std::unique_ptr<TlsSession>(new TlsSession(std::move(context), ssl, input, output, {}));
}

Result<std::unique_ptr<TlsSession>> TlsSession::client(const std::shared_ptr<const TlsContext>& context,
                                                       const std::string& host) {
  ERR_clear_error();
  BIO* input = nullptr;
  BIO* output = nullptr;
  BRELAY_ASSIGN_OR_RETURN(SSL * ssl, new_ssl(*context, input, output));
  std::unique_ptr<TlsSession> session(new TlsSession(context, ssl, input, output, host));
  SSL_set_connect_state(ssl);
  const bool literal = is_ip_literal(host);
  if (!literal && !host.empty()) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (context->mode() == TlsMode::kVerifyIdentity) {
    if (host.empty()) return make_error("verify_identity needs the server's host name");
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    const int ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                           : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    if (ok != 1) return openssl_error(fmt::format("setting the expected host name '{}'", host));
  }
  return session;
}

Status TlsSession::start() {
  return continue_handshake();
}

Status TlsSession::continue_handshake() {
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    handshake_done_ = true;
    return {};
  }
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return {};
  return handshake_error(error);
}

Error TlsSession::handshake_error(int ssl_error) {
  const std::string reasons = drain_openssl_errors();
  if (!context_->is_server()) {
    const long verify = SSL_get_verify_result(ssl_);
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      return make_error(
          "TLS handshake failed: the server's certificate does not match the host name '{}' "
          "(verify_identity); "
          "connect with a name the certificate lists, or use verify_ca",
          host_);
    }
    if (verify != X509_V_OK) {
      const std::string ca = context_->ca_file().empty() ? std::string("the system's trusted CAs")
                                                         : "the CA bundle " + context_->ca_file();
      return make_error("TLS handshake failed: the server's certificate did not verify against {} ({}): {}",
                        ca, tls_mode_name(context_->mode()), X509_verify_cert_error_string(verify));
    }
  }
  if (ssl_error == SSL_ERROR_SYSCALL && reasons.empty())
    return make_error("TLS handshake failed: unexpected end of data");
  return make_error("TLS handshake failed: {}", reasons.empty() ? "protocol error" : reasons);
}

Status TlsSession::receive(ByteView ciphertext, Bytes& plaintext) {
  if (!ciphertext.empty() && BIO_write(input_, ciphertext.data(), static_cast<int>(ciphertext.size())) <= 0)
    return openssl_error("buffering TLS input");
  if (!handshake_done_) {
    BRELAY_TRY(continue_handshake());
    if (!handshake_done_) return {};
  }
  while (true) {
    ERR_clear_error();
    const std::size_t before = plaintext.size();
    plaintext.resize(before + kReadChunk);
    std::size_t read = 0;
    const int rc = SSL_read_ex(ssl_, plaintext.data() + before, kReadChunk, &read);
    plaintext.resize(before + (rc == 1 ? read : 0));
    if (rc == 1) continue;
    const int error = SSL_get_error(ssl_, rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return {};
    if (error == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      return {};
    }
    return openssl_error("reading TLS data");
  }
}

Status TlsSession::send(ByteView plaintext) {
  if (!handshake_done_) return make_error("sending before the TLS handshake finished");
  std::size_t offset = 0;
  while (offset < plaintext.size()) {
    ERR_clear_error();
    std::size_t written = 0;
    const int rc = SSL_write_ex(ssl_, plaintext.data() + offset, plaintext.size() - offset, &written);
    if (rc != 1) return openssl_error("writing TLS data");
    offset += written;
  }
  return {};
}

void TlsSession::shutdown() {
  if (handshake_done_) SSL_shutdown(ssl_);
  ERR_clear_error();
}

ByteView TlsSession::output() const {
  char* data = nullptr;
  const long size = BIO_get_mem_data(output_, &data);
  return ByteView(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(size));
}

void TlsSession::consume_output() {
  (void)BIO_reset(output_);
}

std::string TlsSession::version() const {
  return SSL_get_version(ssl_);
}

std::string TlsSession::cipher() const {
  const char* name = SSL_get_cipher_name(ssl_);
  return name != nullptr ? name : "";
}

}  // namespace brelay::net
