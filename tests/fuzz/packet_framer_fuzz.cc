// PacketFramer fed the input in pieces whose sizes the input chooses, with a limit the input
// chooses: every packet it returns must be within the limit and re-encode to the bytes it came
// from; errors end the stream. Never reads or allocates beyond what arrived.
#include <cstddef>
#include <cstdint>

#include "net/packet_framer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t limit = std::size_t{1} << (data[0] % 26);  // 1 byte .. 32 MiB
  const std::size_t piece = data[1] % 64 + 1;
  brelay::ByteView input(data + 2, size - 2);
  brelay::net::PacketFramer framer(limit);
  std::size_t offset = 0;
  std::size_t consumed = 0;
  while (offset < input.size()) {
    const std::size_t n = std::min(piece, input.size() - offset);
    framer.append(input.subspan(offset, n));
    offset += n;
    while (true) {
      auto next = framer.next();
      if (!next) return 0;
      if (!*next) break;
      const brelay::net::Packet& packet = **next;
      if (packet.payload.size() > limit) __builtin_trap();
      std::uint8_t sequence_id = packet.sequence_id;
      const brelay::Bytes wire = brelay::net::encode_packet(packet.payload, sequence_id);
      if (static_cast<std::uint8_t>(sequence_id - 1) != packet.last_sequence_id) __builtin_trap();
      if (consumed + wire.size() > input.size()) __builtin_trap();
      for (std::size_t i = 0; i < wire.size(); ++i)
        if (wire[i] != input[consumed + i]) __builtin_trap();
      consumed += wire.size();
    }
  }
  if (consumed + framer.buffered() != input.size()) __builtin_trap();
  return 0;
}
