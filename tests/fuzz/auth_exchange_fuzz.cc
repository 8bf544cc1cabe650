// The authentication state machines fed packets chosen by the input: the server's exchange with
// client answers (scrambles, passwords, RSA ciphertexts, key requests) for every account shape and
// transport, and the client's exchange with server packets (OK, ERR, auth switch, more data, PEM
// keys). Neither may crash, and the server may only accept an answer that proves the password.
#include <cstddef>
#include <cstdint>

#include "net/accounts.h"
#include "net/client_auth.h"
#include "net/server_auth.h"

namespace {

using namespace brelay;
using namespace brelay::net;

const std::shared_ptr<const RsaKeyPair>& rsa_keys() {
  static const std::shared_ptr<const RsaKeyPair> keys = *RsaKeyPair::generate(1024);
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  ByteView rest(data + 1, size - 1);
  // Split the rest into packets at 0xA5 bytes.
  std::vector<ByteView> packets;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= rest.size(); ++i) {
    if (i == rest.size() || rest[i] == 0xa5) {
      packets.push_back(rest.subspan(start, i - start));
      start = i + 1;
    }
  }
  Bytes nonce(20, 0x61);
  if (mode & 0x80) {
    ClientAuthExchange client({"secret", (mode & 1) != 0, std::nullopt, (mode & 2) != 0, 0});
    (void)client.initial_response(mode & 4 ? kCachingSha2Plugin : kNativePasswordPlugin, nonce);
    for (ByteView packet : packets) {
      auto step = client.on_server_packet(packet);
      if (!step) break;
    }
    return 0;
  }
  Account account = Account::from_password("secret", "r");
  if (mode & 1) account.native_hash.reset();
  if (mode & 2) account.sha2_hash.reset();
  ServerAuthExchange::Params params;
  params.user = "u";
  params.client_host = "h";
  if (!(mode & 4)) params.account = account;
  params.nonce = nonce;
  params.secure_transport = (mode & 8) != 0;
  if (mode & 16) params.rsa_keys = rsa_keys();
  params.greeting_plugin = mode & 32 ? kCachingSha2Plugin : kNativePasswordPlugin;
  ServerAuthExchange server(std::move(params));
  const char* plugin = mode & 64 ? kCachingSha2Plugin : kNativePasswordPlugin;
  AuthStep step = server.begin(plugin, packets[0]);
  for (std::size_t i = 1; i < packets.size() && step.outcome == AuthStep::Outcome::kContinue; ++i)
    step = server.on_client_data(packets[i]);
  if (step.outcome == AuthStep::Outcome::kAccept) {
    // Only the right password (or a random 1 in 2^160 scramble) gets in: the answers must contain
    // "secret" or be a scramble of it.
    bool plausible = false;
    const Bytes native = native_password_scramble("secret", nonce);
    const Bytes sha2 = caching_sha2_scramble("secret", nonce);
    for (ByteView packet : packets) {
      const Bytes p(packet.begin(), packet.end());
      if (p == native || p == sha2 || as_text(packet).find("secret") != std::string_view::npos ||
          packet.size() == 128)
        plausible = true;
    }
    if (!plausible) __builtin_trap();
  }
  return 0;
}
