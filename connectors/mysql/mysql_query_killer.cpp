#include "mysql/mysql_query_killer.hpp"

#include <algorithm>
#include <chrono>

namespace outpost::connectors::mysql {

void QueryKiller::fire() {
  thread_ = std::thread([this] {
    const auto timeout = std::min(config_.connect_timeout, std::chrono::seconds(5));
    auto killer = connect_to_address(config_, target_.address(), timeout);
    const bool killed = killer.connection &&
                        !killer.connection->execute("KILL QUERY " + std::to_string(thread_id_));
    if (!killed) target_.interrupt_socket();
  });
}

}  // namespace outpost::connectors::mysql
