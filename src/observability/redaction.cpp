#include "observability/redaction.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "observability/log.hpp"

namespace outpost::obs {
namespace {

struct SecretStore {
  std::shared_mutex mutex;
  std::vector<std::string> secrets;  // longest first, so a secret containing another wins
  std::atomic<bool> any{false};
};

SecretStore& store() {
  static SecretStore instance;
  return instance;
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// Where the earliest match of any secret starts at or after `from`; sets `length`.
std::size_t next_match(std::string_view text, std::size_t from,
                       const std::vector<std::string>& secrets, std::size_t& length) {
  std::size_t best = std::string_view::npos;
  for (const auto& secret : secrets) {
    for (std::size_t pos = text.find(secret, from); pos != std::string_view::npos;
         pos = text.find(secret, pos + 1)) {
      if (pos >= best) break;
      if (secret.size() < kMinSubstringSecret) {
        const bool starts_word = pos == 0 || !is_word_char(text[pos - 1]);
        const std::size_t end = pos + secret.size();
        const bool ends_word = end == text.size() || !is_word_char(text[end]);
        if (!starts_word || !ends_word) continue;
      }
      // Longest first: an equal start keeps the longer secret found earlier.
      best = pos;
      length = secret.size();
      break;
    }
  }
  return best;
}

}  // namespace

void add_secret(std::string secret) {
  if (secret.empty()) return;
  auto& s = store();
  std::unique_lock lock(s.mutex);
  if (std::find(s.secrets.begin(), s.secrets.end(), secret) != s.secrets.end()) return;
  s.secrets.push_back(std::move(secret));
  std::stable_sort(s.secrets.begin(), s.secrets.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  s.any.store(true, std::memory_order_release);
}

bool has_secrets() noexcept {
  return store().any.load(std::memory_order_acquire);
}

void append_redacted(std::string& out, std::string_view text) {
  if (!has_secrets()) {
    out.append(text);
    return;
  }
  auto& s = store();
  std::shared_lock lock(s.mutex);
  std::size_t from = 0;
  while (from < text.size()) {
    std::size_t length = 0;
    const std::size_t match = next_match(text, from, s.secrets, length);
    if (match == std::string_view::npos) break;
    out.append(text.substr(from, match - from));
    out.append(kRedactedMark);
    from = match + length;
  }
  if (from < text.size()) out.append(text.substr(from));
}

std::string redact(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_redacted(out, text);
  return out;
}

void clear_secrets_for_testing() {
  auto& s = store();
  std::unique_lock lock(s.mutex);
  s.secrets.clear();
  s.any.store(false, std::memory_order_release);
}

}  // namespace outpost::obs
