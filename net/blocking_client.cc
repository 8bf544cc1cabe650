#include "net/blocking_client.h"

namespace brelay::net {

Result<std::unique_ptr<BlockingClient>> BlockingClient::connect(ClientOptions options) {
  std::unique_ptr<BlockingClient> blocking(new BlockingClient);
  blocking->client_ = std::make_unique<MySqlClient>(blocking->loop_, std::move(options));
  bool done = false;
  Status outcome;
  blocking->client_->connect([&](Status status) {
    outcome = std::move(status);
    done = true;
  });
  blocking->run_until(done);
  if (!outcome) return std::move(outcome).error();
  return blocking;
}

BlockingClient::~BlockingClient() {
  close();
}

void BlockingClient::run_until(const bool& done) {
  while (!done) {
    if (uv_run(loop_.raw(), UV_RUN_ONCE) == 0 && !done) break;
  }
}

Result<QueryResult> BlockingClient::query(std::string sql) {
  bool done = false;
  Result<QueryResult> outcome = make_error("the query did not complete");
  client_->query(std::move(sql), [&](Result<QueryResult> result) {
    outcome = std::move(result);
    done = true;
  });
  run_until(done);
  return outcome;
}

Result<ResultSet> BlockingClient::query_rows(std::string sql) {
  BRELAY_ASSIGN_OR_RETURN(auto result, query(sql));
  if (!result.has_rows) return make_error("'{}' returned no result set", sql);
  return std::move(result.result_set);
}

Result<OkPacket> BlockingClient::command(Bytes payload) {
  bool done = false;
  Result<OkPacket> outcome = make_error("the command did not complete");
  client_->command(std::move(payload), [&](Result<OkPacket> result) {
    outcome = std::move(result);
    done = true;
  });
  run_until(done);
  return outcome;
}

void BlockingClient::close() {
  if (!client_) return;
  client_->close();
  client_.reset();
  // Let the close callbacks run so that nothing is left on the loop.
  uv_run(loop_.raw(), UV_RUN_NOWAIT);
  uv_run(loop_.raw(), UV_RUN_NOWAIT);
}

}  // namespace brelay::net
