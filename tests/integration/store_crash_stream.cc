#include "tests/integration/store_crash_stream.h"

#include <fmt/format.h>

#include <charconv>
#include <cstring>

namespace brelay::testing {
namespace {

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

Bytes event_bytes(std::uint64_t file, std::uint64_t position, std::size_t size) {
  Bytes bytes(size);
  std::uint64_t state = mix(file * 0x100000000ull + position);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    state = mix(state);
    std::memcpy(bytes.data() + i, &state, 8);
  }
  state = mix(state);
  for (; i < size; ++i)
    bytes[i] = static_cast<std::uint8_t>(state >> (8 * (i % 8)));
  // Shaped like a binlog event where it matters to the store: the header's u32 LE at offset 9 is
  // the event's length (readers of compressed files find events by it).
  for (std::size_t b = 0; b < 4 && 9 + b < size; ++b)
    bytes[9 + b] = static_cast<std::uint8_t>(size >> (8 * b));
  return bytes;
}

}  // namespace

std::string CrashStream::file_name(std::uint64_t file) {
  return fmt::format("crash-bin.{:06}", file);
}

std::uint64_t CrashStream::file_number(const std::string& name) {
  constexpr std::string_view prefix = "crash-bin.";
  if (!name.starts_with(prefix)) return 0;
  std::uint64_t number = 0;
  const char* begin = name.data() + prefix.size();
  const char* end = name.data() + name.size();
  auto [rest, ec] = std::from_chars(begin, end, number);
  return ec == std::errc() && rest == end ? number : 0;
}

Bytes CrashStream::gtid_key(std::uint64_t gtid) {
  Bytes key(8);
  for (int i = 0; i < 8; ++i)
    key[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(gtid >> (8 * (7 - i)));
  return key;
}

void CrashStream::begin_transaction() {
  transaction_ = transaction_ == 0 ? (file_ - 1) * kTransactionsPerFile + 1 : transaction_ + 1;
  events_left_ = 1 + static_cast<int>(mix(transaction_) % 8);
  event_index_ = 0;
}

const CrashStream::Item& CrashStream::next() {
  item_ = Item{};
  item_.file = file_name(file_);
  switch (step_) {
    case Step::kBeginFile:
      item_.kind = Item::Kind::kBeginFile;
      item_.position = 4;
      item_.bytes = event_bytes(file_, 0, 100);
      position_ = 4;
      transaction_ = 0;
      step_ = Step::kFormatDescription;
      return item_;
    case Step::kFormatDescription:
      item_.kind = Item::Kind::kEvent;
      item_.position = position_;
      item_.bytes = event_bytes(file_, 0, 100);
      item_.boundary = true;
      position_ += item_.bytes.size();
      step_ = Step::kTransactions;
      begin_transaction();
      return item_;
    case Step::kTransactions: {
      const std::uint64_t h = mix(transaction_ * 64 + static_cast<std::uint64_t>(event_index_));
      std::size_t size = 40 + static_cast<std::size_t>(h % 3000);
      if (event_index_ == 1 && mix(transaction_) % 32 == 0) size = 200 * 1024;
      item_.kind = Item::Kind::kEvent;
      item_.position = position_;
      item_.bytes = event_bytes(file_, position_, size);
      item_.gtid = event_index_ == 0 ? transaction_ : 0;
      item_.boundary = --events_left_ == 0;
      position_ += size;
      ++event_index_;
      if (item_.boundary) {
        if (transaction_ == file_ * kTransactionsPerFile) {
          step_ = Step::kRotate;
        } else {
          begin_transaction();
        }
      }
      return item_;
    }
    case Step::kRotate:
      item_.kind = Item::Kind::kEvent;
      item_.position = position_;
      item_.bytes = event_bytes(file_, position_, 44);
      item_.boundary = true;
      position_ += item_.bytes.size();
      step_ = Step::kEndFile;
      return item_;
    case Step::kEndFile:
      item_.kind = Item::Kind::kEndFile;
      ++file_;
      step_ = Step::kBeginFile;
      return item_;
  }
  return item_;
}

}  // namespace brelay::testing
