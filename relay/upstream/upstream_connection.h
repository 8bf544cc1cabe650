// Upstream::Connection, shared by upstream.cc and upstream_failover.cc (private to the upstream).
#pragma once

#include <memory>

#include "relay/upstream/upstream.h"

namespace brelay::relay {

// One connection to the source: the client, its setup, and the stream receiver. Callbacks from a
// connection the upstream has retired are ignored.
struct Upstream::Connection final : net::MySqlClient::StreamReceiver {
  Connection(Upstream& owner, net::ClientOptions options)
      : upstream(owner),
        client(std::make_unique<net::MySqlClient>(owner.context_.loop, std::move(options))) {}

  void on_stream_packet(ByteView payload) override { upstream.on_stream_packet(this, payload); }
  void on_stream_end(const Status& status) override { upstream.on_stream_end(this, status); }

  Upstream& upstream;
  // Declared before the client so that the client goes first (its callbacks reach the setup).
  std::unique_ptr<SourceSetup> setup;
  std::unique_ptr<net::MySqlClient> client;
  bool streaming = false;
};

}  // namespace brelay::relay
