#include "storage/at_rest_crypto.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <new>
#include <string>
#include <vector>

namespace brelay::storage::crypto {
namespace {

Key256 counting_key() {
  Key256 k{};
  for (std::size_t i = 0; i < k.size(); ++i)
    k[i] = static_cast<std::uint8_t>(i);
  return k;
}

std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// Copies of data keys go to many holders (cipher states, plans, caches): each copy wipes its bytes
// when it is destroyed, so none is left in freed memory.
TEST(AtRestCrypto, AKeyWipesItsBytesWhenDestroyed) {
  alignas(Key256) std::array<std::uint8_t, sizeof(Key256)> storage{};
  auto* key = new (storage.data()) Key256(counting_key());
  key->fill(0xa5);
  ASSERT_EQ(std::count(storage.begin(), storage.end(), 0xa5), static_cast<std::ptrdiff_t>(storage.size()));
  key->~Key256();
  EXPECT_EQ(std::count(storage.begin(), storage.end(), 0), static_cast<std::ptrdiff_t>(storage.size()));
}

// Expected keystream from `openssl enc -aes-256-ctr -K 0001..1f -iv 0001020304050607000000000000f424`
// over zero bytes (block 62500 = offset 1000000), skipping 3 bytes: an answer computed outside this code.
TEST(AtRestCrypto, CtrKnownAnswerAtAnUnalignedOffset) {
  const FileNonce nonce = {0, 1, 2, 3, 4, 5, 6, 7};
  std::vector<std::uint8_t> data(32, 0);
  ASSERT_TRUE(ctr_apply(counting_key(), nonce, 1000003, data));
  EXPECT_EQ(data, from_hex("ab59ec0de47a143c8eecbfd73f973b019ffd6cd73d5c456ed0dc93b1ff3c7163"));
}

TEST(AtRestCrypto, AnySliceDecryptsOnItsOwn) {
  const FileNonce nonce = {9, 8, 7, 6, 5, 4, 3, 2};
  std::vector<std::uint8_t> plain(1000);
  for (std::size_t i = 0; i < plain.size(); ++i)
    plain[i] = static_cast<std::uint8_t>(i * 7);
  auto stored = plain;
  ASSERT_TRUE(ctr_apply(counting_key(), nonce, 4, stored));
  EXPECT_NE(stored, plain);
  for (std::size_t start : {0u, 1u, 15u, 16u, 17u, 333u, 999u}) {
    std::vector<std::uint8_t> slice(stored.begin() + static_cast<long>(start), stored.end());
    ASSERT_TRUE(ctr_apply(counting_key(), nonce, 4 + start, slice));
    EXPECT_TRUE(std::equal(slice.begin(), slice.end(), plain.begin() + static_cast<long>(start))) << start;
  }
}

TEST(AtRestCrypto, RunMacDetectsAFlippedByteAndAMovedRun) {
  std::vector<std::uint8_t> run(500, 0x5a);
  auto mac = run_mac(counting_key(), 4096, run);
  ASSERT_TRUE(mac);
  auto same = run_mac_matches(counting_key(), 4096, run, *mac);
  ASSERT_TRUE(same);
  EXPECT_TRUE(*same);
  // A fresh IV per MAC: two MACs of the same bytes differ, and both authenticate them.
  auto again = run_mac(counting_key(), 4096, run);
  ASSERT_TRUE(again);
  EXPECT_FALSE(mac_equal(*mac, *again));
  EXPECT_TRUE(*run_mac_matches(counting_key(), 4096, run, *again));
  run[123] ^= 0x01;
  EXPECT_FALSE(*run_mac_matches(counting_key(), 4096, run, *mac));
  run[123] ^= 0x01;
  EXPECT_FALSE(*run_mac_matches(counting_key(), 4097, run, *mac));
  Key256 other = counting_key();
  other[0] ^= 1;
  EXPECT_FALSE(*run_mac_matches(other, 4096, run, *mac));
  for (std::size_t at : {0u, 15u, 16u, 31u}) {  // the stored IV and the tag are covered too
    Mac256 changed = *mac;
    changed[at] ^= 0x80;
    EXPECT_FALSE(*run_mac_matches(counting_key(), 4096, run, changed)) << at;
  }
}

// Keystream segments: each byte is encrypted under the nonce in force at its position (the first
// nonce before the first segment), also by one call that spans segment starts, at an offset that
// is not a counter block's start.
TEST(AtRestCrypto, KeystreamSegmentsGiveEachPositionTheNonceInForceThere) {
  const FileNonce first = {1, 3, 5, 7, 9, 11, 13, 15};
  const std::vector<NonceSegment> segments = {{1000, {2, 2, 2, 2, 2, 2, 2, 2}},
                                              {1033, {3, 3, 3, 3, 3, 3, 3, 3}}};
  std::vector<std::uint8_t> plain(3000);
  for (std::size_t i = 0; i < plain.size(); ++i)
    plain[i] = static_cast<std::uint8_t>(i * 7 + 1);
  std::vector<std::uint8_t> expected = plain;  // at file offset 100
  ASSERT_TRUE(ctr_apply(counting_key(), first, 100, std::span(expected).first(900)));
  ASSERT_TRUE(ctr_apply(counting_key(), segments[0].nonce, 1000, std::span(expected).subspan(900, 33)));
  ASSERT_TRUE(ctr_apply(counting_key(), segments[1].nonce, 1033, std::span(expected).subspan(933)));
  auto ctr = FileCtr::create(counting_key(), first, segments);
  ASSERT_TRUE(ctr);
  std::vector<std::uint8_t> out(plain.size());
  ASSERT_TRUE(ctr->apply(100, plain, out));
  EXPECT_EQ(out, expected);
  // In pieces that start inside segments, in place.
  std::vector<std::uint8_t> pieces = plain;
  for (std::size_t at = 0; at < pieces.size(); at += 37) {
    const std::size_t size = std::min<std::size_t>(37, pieces.size() - at);
    ASSERT_TRUE(
        ctr->apply(100 + at, std::span(pieces).subspan(at, size), std::span(pieces).subspan(at, size)));
  }
  EXPECT_EQ(pieces, expected);
  // Without the segments, the bytes from the first segment on differ.
  auto unsegmented = FileCtr::create(counting_key(), first);
  ASSERT_TRUE(unsegmented);
  ASSERT_TRUE(unsegmented->apply(100, plain, out));
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + 900, expected.begin()));
  EXPECT_FALSE(std::equal(out.begin() + 900, out.begin() + 933, expected.begin() + 900));
}

// The per-file contexts are reused: many calls at scattered offsets, in pieces and while copying,
// give what the one-off functions give.
TEST(AtRestCrypto, ReusedContextsMatchTheOneOffFunctions) {
  const FileNonce nonce = {1, 3, 5, 7, 9, 11, 13, 15};
  std::vector<std::uint8_t> plain(70000);
  for (std::size_t i = 0; i < plain.size(); ++i)
    plain[i] = static_cast<std::uint8_t>(i * 13 + (i >> 8));
  auto ctr = FileCtr::create(counting_key(), nonce);
  ASSERT_TRUE(ctr);
  auto macer = RunMacer::create(counting_key());
  ASSERT_TRUE(macer);
  std::size_t at = 0;
  for (std::size_t size : {1u, 15u, 16u, 17u, 4096u, 33u, 20000u, 5u, 50000u}) {
    size = std::min(size, plain.size() - at);
    const std::span<const std::uint8_t> in(plain.data() + at, size);
    std::vector<std::uint8_t> out(size);
    ASSERT_TRUE(ctr->apply(1000 + at, in, out));  // encrypting while copying
    std::vector<std::uint8_t> expected(in.begin(), in.end());
    ASSERT_TRUE(ctr_apply(counting_key(), nonce, 1000 + at, expected));
    EXPECT_EQ(out, expected) << at;
    // A MAC fed in three pieces authenticates the whole, checked by the one-off function.
    ASSERT_TRUE(macer->begin(1000 + at));
    ASSERT_TRUE(macer->update(std::span(out).first(size / 3)));
    ASSERT_TRUE(macer->update(std::span(out).subspan(size / 3, size / 3)));
    ASSERT_TRUE(macer->update(std::span(out).subspan(2 * (size / 3))));
    auto mac = macer->finish();
    ASSERT_TRUE(mac);
    EXPECT_TRUE(*run_mac_matches(counting_key(), 1000 + at, out, *mac)) << at;
    EXPECT_TRUE(*macer->matches(1000 + at, out, *mac)) << at;
    at += size;
  }
  EXPECT_EQ(at, plain.size());
}

MasterKeys two_keys() {
  auto keys = parse_key_file(
      "# keys\n"
      "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
      "\n"
      "7 FFEEDDCCBBAA99887766554433221100ffeeddccbbaa99887766554433221100\r\n");
  EXPECT_TRUE(keys) << keys.error().message();
  return *keys;
}

TEST(AtRestCrypto, KeyFileHighestIdIsCurrent) {
  const auto keys = two_keys();
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.current().id, 7u);
  EXPECT_EQ(keys.current().key[0], 0xff);
  ASSERT_NE(keys.find(1), nullptr);
  EXPECT_EQ(keys.find(2), nullptr);
}

TEST(AtRestCrypto, KeyFileRejectsMalformedLinesWithoutEchoingKeys) {
  const std::string secret = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  for (const std::string& text :
       {std::string(""), std::string("1\n"), "0 " + secret, "x " + secret, "1 " + secret.substr(2),
        "1 " + secret.substr(2) + "zz", "1 " + secret + "\n1 " + secret}) {
    auto keys = parse_key_file(text);
    ASSERT_FALSE(keys) << text;
    EXPECT_EQ(keys.error().message().find(secret.substr(0, 16)), std::string::npos);
  }
}

TEST(AtRestCrypto, WrappedKeyUnwrapsOnlyUnderItsMasterKey) {
  const auto keys = two_keys();
  auto data_key = random_key();
  ASSERT_TRUE(data_key);
  auto wrapped = wrap_data_key(keys.current(), *data_key);
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(wrapped->master_id, 7u);
  auto back = unwrap_data_key(keys, *wrapped);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *data_key);

  auto wrong_id = *wrapped;
  wrong_id.master_id = 1;  // authenticated as associated data
  EXPECT_FALSE(unwrap_data_key(keys, wrong_id));
  auto missing = *wrapped;
  missing.master_id = 9;
  auto missing_result = unwrap_data_key(keys, missing);
  ASSERT_FALSE(missing_result);
  EXPECT_NE(missing_result.error().message().find("key id 9"), std::string::npos);
  auto other = parse_key_file("7 1111111111111111111111111111111111111111111111111111111111111111\n");
  ASSERT_TRUE(other);
  auto wrong_key = unwrap_data_key(*other, *wrapped);
  ASSERT_FALSE(wrong_key);
  EXPECT_NE(wrong_key.error().message().find("id 7"), std::string::npos);
}

TEST(AtRestCrypto, KeyFileReadableByOthersIsRefusedWithTheChmodFix) {
  char dir_template[] = "/tmp/brelay-keys-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/keys";
  std::ofstream(path) << "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  auto refused = load_key_file(path);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("chmod 600 " + path), std::string::npos);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto loaded = load_key_file(path);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->current().id, 1u);
  EXPECT_FALSE(load_key_file(path + ".missing"));
  std::remove(path.c_str());
  ::rmdir(dir_template);
}

}  // namespace
}  // namespace brelay::storage::crypto
