#include "tests/support/raw_mysql_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/byte_reader.h"
#include "net/auth_native.h"
#include "net/mysql_constants.h"
#include "net/mysql_handshake.h"

namespace brelay::testing {
namespace {

Status read_exactly(int fd, std::uint8_t* out, std::size_t size, std::chrono::milliseconds timeout) {
  std::size_t done = 0;
  while (done < size) {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (ready == 0) return make_error("no packet within {} ms", timeout.count());
    if (ready < 0 && errno != EINTR) return make_error("poll: {}", std::strerror(errno));
    if (ready < 0) continue;
    const ssize_t n = ::recv(fd, out + done, size - done, 0);
    if (n == 0) return make_error("the server closed the connection");
    if (n < 0 && errno != EINTR) return make_error("recv: {}", std::strerror(errno));
    if (n > 0) done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

bool is_err_packet(ByteView payload) {
  return !payload.empty() && payload[0] == 0xff;
}

bool is_eof_packet(ByteView payload) {
  return !payload.empty() && payload[0] == 0xfe && payload.size() < 9;
}

RawError decode_raw_error(ByteView payload) {
  RawError error;
  if (payload.size() < 3) return error;
  error.code = static_cast<std::uint16_t>(payload[1] | (payload[2] << 8));
  std::size_t text = 3;
  if (payload.size() > 3 && payload[3] == '#') text = 9;
  if (text < payload.size())
    error.message.assign(payload.begin() + static_cast<std::ptrdiff_t>(text), payload.end());
  return error;
}

Result<std::unique_ptr<RawMysqlClient>> RawMysqlClient::connect(std::uint16_t port, const std::string& user,
                                                                const std::string& password,
                                                                const std::string& from) {
  std::unique_ptr<RawMysqlClient> client(new RawMysqlClient);
  client->fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (client->fd_ < 0) return make_error("socket: {}", std::strerror(errno));
  if (!from.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, from.c_str(), &local.sin_addr) != 1) return make_error("bad address {}", from);
    if (::bind(client->fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0)
      return make_error("bind to {}: {}", from, std::strerror(errno));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(client->fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
    return make_error("connect to 127.0.0.1:{}: {}", port, std::strerror(errno));
  BRELAY_TRY(client->login(user, password));
  return client;
}

RawMysqlClient::~RawMysqlClient() {
  if (fd_ >= 0) ::close(fd_);
}

Status RawMysqlClient::login(const std::string& user, const std::string& password) {
  BRELAY_ASSIGN_OR_RETURN(Bytes greeting_bytes, read_packet());
  if (is_err_packet(greeting_bytes)) {  // refused before the greeting (1129, 1040)
    const RawError error = decode_raw_error(greeting_bytes);
    return make_error_code(error.code, "refused: {}", error.message);
  }
  BRELAY_ASSIGN_OR_RETURN(net::HandshakeV10 greeting, net::decode_handshake_v10(greeting_bytes));
  server_version_ = greeting.server_version;
  net::HandshakeResponse response;
  response.capabilities = net::capability::kLongPassword | net::capability::kProtocol41 |
                          net::capability::kSecureConnection | net::capability::kPluginAuth |
                          net::capability::kTransactions | net::capability::kMultiResults;
  response.max_packet_size = 1 << 24;
  response.charset = 45;
  response.user = user;
  response.auth_response = net::native_password_scramble(password, greeting.nonce);
  response.auth_plugin_name = net::kNativePasswordPlugin;
  BRELAY_TRY(write_packet(net::encode_handshake_response(response), next_sequence_));
  while (true) {
    BRELAY_ASSIGN_OR_RETURN(Bytes reply, read_packet());
    if (reply.empty()) return make_error("an empty packet during login");
    if (reply[0] == 0x00) return {};
    if (is_err_packet(reply)) {
      const RawError error = decode_raw_error(reply);
      return make_error_code(error.code, "login refused: {}", error.message);
    }
    if (reply[0] != 0xfe) return make_error("unexpected packet 0x{:02x} during login", reply[0]);
    BRELAY_ASSIGN_OR_RETURN(net::AuthSwitchRequest request, net::decode_auth_switch_request(reply));
    if (request.plugin_name != net::kNativePasswordPlugin)
      return make_error("the server switched to {}, this client speaks mysql_native_password only",
                        request.plugin_name);
    BRELAY_TRY(write_packet(
        net::native_password_scramble(password, net::nonce_from_plugin_data(request.plugin_data)),
        next_sequence_));
  }
}

Status RawMysqlClient::write_packet(ByteView payload, std::uint8_t sequence) {
  Bytes packet(4 + payload.size());
  packet[0] = static_cast<std::uint8_t>(payload.size());
  packet[1] = static_cast<std::uint8_t>(payload.size() >> 8);
  packet[2] = static_cast<std::uint8_t>(payload.size() >> 16);
  packet[3] = sequence;
  std::copy(payload.begin(), payload.end(), packet.begin() + 4);
  std::size_t done = 0;
  while (done < packet.size()) {
    const ssize_t n = ::send(fd_, packet.data() + done, packet.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error("send: {}", std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  next_sequence_ = static_cast<std::uint8_t>(sequence + 1);
  return {};
}

Result<std::size_t> RawMysqlClient::send_some(ByteView bytes, std::chrono::milliseconds wait) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return make_error("send: {}", std::strerror(errno));
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) break;
  }
  return done;
}

Status RawMysqlClient::send_command(ByteView payload) {
  return write_packet(payload, 0);
}

Result<Bytes> RawMysqlClient::read_packet(std::chrono::milliseconds timeout) {
  Bytes payload;
  while (true) {
    std::uint8_t header[4];
    BRELAY_TRY(read_exactly(fd_, header, 4, timeout));
    const std::size_t size = header[0] | (header[1] << 8) | (header[2] << 16);
    next_sequence_ = static_cast<std::uint8_t>(header[3] + 1);
    const std::size_t at = payload.size();
    payload.resize(at + size);
    BRELAY_TRY(read_exactly(fd_, payload.data() + at, size, timeout));
    if (size < 0xffffff) return payload;
  }
}

Status RawMysqlClient::send_query(const std::string& sql) {
  Bytes command{net::command::kQuery};
  command.insert(command.end(), sql.begin(), sql.end());
  return send_command(command);
}

Result<std::vector<Bytes>> RawMysqlClient::query_packets(const std::string& sql) {
  BRELAY_TRY(send_query(sql));
  std::vector<Bytes> packets;
  int eofs = 0;
  while (true) {
    BRELAY_ASSIGN_OR_RETURN(Bytes packet, read_packet());
    packets.push_back(packet);
    if (is_err_packet(packet)) return packets;
    if (packets.size() == 1 && !packet.empty() && packet[0] == 0x00) return packets;
    if (is_eof_packet(packet) && ++eofs == 2) return packets;
  }
}

Result<std::vector<std::vector<std::string>>> RawMysqlClient::query_rows(const std::string& sql) {
  BRELAY_ASSIGN_OR_RETURN(std::vector<Bytes> packets, query_packets(sql));
  if (is_err_packet(packets.back()))
    return make_error("{}: {}", sql, decode_raw_error(packets.back()).message);
  if (packets.size() < 2) return make_error("{}: no result set", sql);
  std::vector<std::vector<std::string>> rows;
  bool in_rows = false;
  for (std::size_t i = 1; i + 1 < packets.size(); ++i) {
    if (is_eof_packet(packets[i])) {
      in_rows = true;
      continue;
    }
    if (!in_rows) continue;
    ByteReader reader(packets[i]);
    std::vector<std::string> row;
    while (!reader.at_end()) {
      BRELAY_ASSIGN_OR_RETURN(auto length, reader.lenenc_or_null("row value"));
      if (!length) {
        row.emplace_back("NULL");
        continue;
      }
      BRELAY_ASSIGN_OR_RETURN(auto text, reader.text(*length, "row value"));
      row.emplace_back(text);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace brelay::testing
