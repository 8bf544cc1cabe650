#include "relay/core/replica_headroom.h"

#include <gtest/gtest.h>

#include <cmath>

namespace brelay::relay {
namespace {

// Three files of 1000 bytes each, written over 300 s (10 bytes/s): created at 0, 100, 200, last
// written at 100, 200, 300.
std::vector<storage::FileInfo> three_files() {
  std::vector<storage::FileInfo> files;
  for (int i = 0; i < 3; ++i) {
    storage::FileInfo file;
    file.seq = static_cast<std::uint32_t>(i + 1);
    file.name = "bin." + std::to_string(i + 1);
    file.first_position = 4;
    file.end_position = 1004;
    file.created_time = i * 100;
    file.last_write_time = (i + 1) * 100;
    files.push_back(file);
  }
  return files;
}

HeadroomInputs inputs_for(const std::vector<storage::FileInfo>& files, const std::string& file) {
  HeadroomInputs inputs;
  inputs.files = &files;
  inputs.file = file;
  inputs.now = 300;
  inputs.last_seen = 300;
  inputs.grace_seconds = 50;
  inputs.free_bytes = 1'000'000;
  inputs.guard_free_bytes = 0;
  return inputs;
}

TEST(ReplicaHeadroom, TheWriteRateIsTheRetainedBytesOverTheirSpan) {
  EXPECT_DOUBLE_EQ(store_write_rate(three_files()), 10.0);
  EXPECT_DOUBLE_EQ(store_write_rate({}), 0.0);
}

TEST(ReplicaHeadroom, SizeLimitAgeLimitGraceAndDisk) {
  const auto files = three_files();
  HeadroomInputs in = inputs_for(files, "bin.1");
  in.protect_replicas = false;
  in.max_total_bytes = 5000;  // 3000 bytes from bin.1 on: 2000 bytes of room at 10 B/s
  EXPECT_DOUBLE_EQ(retention_headroom_seconds(in), 200.0);
  in.max_age_seconds = 150;  // bin.1 was last written at 100: it goes at 250
  EXPECT_DOUBLE_EQ(retention_headroom_seconds(in), 0.0);
  in.now = 200;
  EXPECT_DOUBLE_EQ(retention_headroom_seconds(in), 50.0);

  // Protected and disconnected: kept until last_seen + grace, then the limits apply.
  in.protect_replicas = true;
  in.last_seen = 200;
  in.grace_seconds = 120;
  EXPECT_DOUBLE_EQ(retention_headroom_seconds(in), 120.0);
  // Connected: retention never drops it; the disk does (1'000'000 - 999'000 bytes at 10 B/s).
  in.connected = true;
  in.guard_free_bytes = 999'000;
  EXPECT_DOUBLE_EQ(retention_headroom_seconds(in), 100.0);
  in.guard_free_bytes = 0;
  EXPECT_DOUBLE_EQ(retention_headroom_seconds(in), 100'000.0);
}

TEST(ReplicaHeadroom, NoLimitsIsInfiniteAndAPurgedFileIsZero) {
  const auto files = three_files();
  HeadroomInputs in = inputs_for(files, "bin.2");
  in.connected = true;
  std::vector<storage::FileInfo> idle = files;
  for (auto& file : idle)
    file.last_write_time = file.created_time = 0;  // no span: the rate is unknown
  in.files = &idle;
  EXPECT_TRUE(std::isinf(retention_headroom_seconds(in)));
  in.files = &files;
  in.file = "bin.0";
  EXPECT_DOUBLE_EQ(retention_headroom_seconds(in), 0.0);
}

}  // namespace
}  // namespace brelay::relay
