#include <algorithm>
#include <stdexcept>
#include <utility>

#include "outpost/connector.hpp"

namespace outpost {

void ConnectorRegistry::add(const std::shared_ptr<Connector>& connector,
                            std::vector<std::string> aliases) {
  if (!connector) throw std::invalid_argument("connector registry: null connector");
  // The canonical name goes first (push_back + rotate: GCC 12's
  // -Wnull-dereference misfires on vector::insert at the front under TSan).
  aliases.emplace_back(connector->type());
  std::rotate(aliases.begin(), aliases.end() - 1, aliases.end());
  for (const auto& name : aliases) {
    if (find(name) != nullptr) {
      throw std::invalid_argument("connector registry: duplicate connector type '" + name + "'");
    }
  }
  for (auto& name : aliases) entries_.push_back(Entry{std::move(name), connector});
}

Connector* ConnectorRegistry::find(std::string_view type) const noexcept {
  for (const auto& e : entries_) {
    if (e.name == type) return e.connector.get();
  }
  return nullptr;
}

std::vector<Connector*> ConnectorRegistry::all() const {
  std::vector<Connector*> out;
  for (const auto& e : entries_) {
    bool seen = false;
    for (auto* c : out) seen = seen || c == e.connector.get();
    if (!seen) out.push_back(e.connector.get());
  }
  return out;
}

}  // namespace outpost
