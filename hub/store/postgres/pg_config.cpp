#include "store/postgres/pg_config.hpp"

#include <map>
#include <memory>
#include <stdexcept>

namespace outpost::hub::pg {

namespace {

struct OptionsDeleter {
  void operator()(PQconninfoOption* o) const noexcept { PQconninfoFree(o); }
};

// The userinfo part of a URL (between "//" and the last '@' before the path).
std::string_view userinfo(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  auto rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?"));
  const auto at = rest.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : rest.substr(0, at);
}

}  // namespace

std::string redact_url(std::string_view url) {
  std::string out(url);
  const auto info = userinfo(url);
  if (const auto colon = info.find(':'); colon != std::string_view::npos) {
    const auto start = static_cast<std::size_t>(info.data() - url.data()) + colon + 1;
    out.replace(start, info.size() - colon - 1, "***");
  }
  for (auto pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    const auto start = pos + 9;
    const auto end = out.find('&', start);
    out.replace(start, (end == std::string::npos ? out.size() : end) - start, "***");
  }
  return out;
}

ConnParams parse_store_url(std::string_view url, const std::string& password) {
  if (!url.starts_with("postgres://") && !url.starts_with("postgresql://")) {
    throw std::invalid_argument("the store must be 'memory' or a postgres:// URL");
  }
  if (userinfo(url).find(':') != std::string_view::npos) {
    throw std::invalid_argument(
        "the store URL carries a password; remove it and pass --store-password-file FILE "
        "(or OUTPOST_HUB_STORE_PASSWORD_FILE): a URL shows in ps and in logs");
  }
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsDeleter> options(
      PQconninfoParse(std::string(url).c_str(), &error));
  if (!options) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw std::invalid_argument("invalid store URL: " + message);
  }
  std::map<std::string, std::string> kw;
  for (auto* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr && *o->val != '\0') kw[o->keyword] = o->val;
  }
  if (kw.contains("password")) {
    throw std::invalid_argument(
        "the store URL carries a password parameter; remove it and pass --store-password-file "
        "FILE (or OUTPOST_HUB_STORE_PASSWORD_FILE)");
  }
  kw.try_emplace("application_name", "outpost-hub");
  kw.try_emplace("connect_timeout", "5");
  kw.try_emplace("keepalives", "1");
  kw.try_emplace("keepalives_idle", "10");
  kw.try_emplace("keepalives_interval", "5");
  kw.try_emplace("keepalives_count", "3");

  ConnParams out;
  out.display = std::string(url.substr(0, url.find('?')));
  for (auto& [k, v] : kw) out.keywords.emplace_back(k, v);
  if (!password.empty()) out.keywords.emplace_back("password", password);
  return out;
}

}  // namespace outpost::hub::pg
