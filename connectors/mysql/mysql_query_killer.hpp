#pragma once

#include <string>
#include <thread>
#include <utility>

#include "mysql/mysql_config.hpp"
#include "mysql/mysql_connection.hpp"

namespace outpost::connectors::mysql {

/// Interrupts a running statement from another thread. fire() is called by
/// the cancel hook (on the canceller's thread), so the slow part — a second
/// login and KILL QUERY — runs on a thread of its own, joined by the
/// destructor before the target connection can be reused or closed. If the
/// KILL cannot be delivered, the target's socket is shut down instead, which
/// ends any blocked read at once.
class QueryKiller {
 public:
  QueryKiller(MysqlConfig config, const Connection& target)
      : config_(std::move(config)), target_(target), thread_id_(target.thread_id()) {}
  ~QueryKiller() {
    if (thread_.joinable()) thread_.join();
  }
  QueryKiller(const QueryKiller&) = delete;
  QueryKiller& operator=(const QueryKiller&) = delete;

  void fire();

 private:
  MysqlConfig config_;
  const Connection& target_;
  unsigned long thread_id_;
  std::thread thread_;
};

}  // namespace outpost::connectors::mysql
