#include "common/source_config.hpp"

#include "common/sha256.hpp"  // src/common: the one SHA-256 helper

#include <charconv>
#include <utility>

namespace outpost::connectors::common {

ConfigReader::ConfigReader(const nlohmann::json& config, std::string what)
    : config_(config), what_(std::move(what)) {
  if (!config_.is_object()) fail(what_ + " must be a JSON object");
}

// Taken by value and moved into error_ (clang-tidy 14 misses the move under the if).
void ConfigReader::fail(std::string message) {  // NOLINT(performance-unnecessary-value-param)
  if (!error_) error_ = std::move(message);
}

const nlohmann::json* ConfigReader::find(std::string_view key) const {
  if (!config_.is_object()) return nullptr;
  auto it = config_.find(key);
  return it == config_.end() || it->is_null() ? nullptr : &*it;
}

bool ConfigReader::has(std::string_view key) const {
  return find(key) != nullptr;
}

void ConfigReader::allow_only(std::initializer_list<std::string_view> allowed) {
  if (!config_.is_object()) return;
  for (const auto& item : config_.items()) {
    bool known = false;
    for (auto name : allowed) known = known || item.key() == name;
    if (!known) fail(what_ + ": unknown key \"" + item.key() + "\"");
  }
}

std::optional<std::string> ConfigReader::string(std::string_view key) {
  const auto* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number_integer()) return v->dump();
  fail(what_ + ": \"" + std::string(key) + "\" must be a string");
  return std::nullopt;
}

std::optional<std::int64_t> ConfigReader::integer(std::string_view key, std::int64_t min,
                                                  std::int64_t max) {
  const auto* v = find(key);
  if (v == nullptr) return std::nullopt;
  std::int64_t value = 0;
  bool ok = false;
  if (v->is_number_integer()) {
    value = v->get<std::int64_t>();
    ok = true;
  } else if (v->is_string()) {
    const auto& text = v->get_ref<const std::string&>();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    ok = ec == std::errc{} && end == text.data() + text.size() && !text.empty();
  }
  if (!ok || value < min || value > max) {
    fail(what_ + ": \"" + std::string(key) + "\" must be an integer from " + std::to_string(min) +
         " to " + std::to_string(max));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> ConfigReader::boolean(std::string_view key) {
  const auto* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_string() && (*v == "true" || *v == "false")) return *v == "true";
  fail(what_ + ": \"" + std::string(key) + "\" must be true or false");
  return std::nullopt;
}

std::optional<std::string> ConfigReader::choice(std::string_view key,
                                                std::initializer_list<std::string_view> choices) {
  auto value = string(key);
  if (!value) return std::nullopt;
  for (auto c : choices) {
    if (*value == c) return value;
  }
  std::string list;
  for (auto c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
  fail(what_ + ": \"" + std::string(key) + "\" must be one of " + list);
  return std::nullopt;
}

std::string config_fingerprint(const nlohmann::json& config) {
  // nlohmann's object is an ordered std::map, so dump() is canonical.
  return ::outpost::common::sha256_hex(config.dump());
}

}  // namespace outpost::connectors::common
