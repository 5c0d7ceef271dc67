#include "observability/redaction.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include <nlohmann/json.hpp>

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

namespace {

// Server-side truncation lengths a reflected value may be cut to.
constexpr std::size_t kTruncationLengths[] = {63, 64, 32};

// `text` cut to at most `bytes`, not inside a UTF-8 sequence (as pg_mbcliplen).
std::string_view clip_utf8(std::string_view text, std::size_t bytes) {
  if (text.size() <= bytes) return text;
  std::size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// The first `chars` UTF-8 characters of `text` (MySQL counts characters).
std::string_view first_chars(std::string_view text, std::size_t chars) {
  std::size_t i = 0;
  for (std::size_t n = 0; i < text.size() && n < chars; ++n) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
  }
  return text.substr(0, i);
}

std::string_view trimmed(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

}  // namespace

std::vector<std::string> secret_variants(std::string_view secret) {
  std::vector<std::string> out;
  auto add = [&out](std::string_view v, std::size_t min) {
    if (v.size() < min || v.empty()) return;
    if (std::find(out.begin(), out.end(), v) == out.end()) out.emplace_back(v);
  };
  for (const std::string_view form : {secret, trimmed(secret)}) {
    add(form, 1);
    for (const std::size_t length : kTruncationLengths) {
      if (form.size() <= length) continue;
      add(clip_utf8(form, length), kMinSecretPrefix);
      add(first_chars(form, length), kMinSecretPrefix);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

namespace {

std::string json_escaped(const std::string& text) {
  const std::string quoted =
      nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

ValueScrubber::ValueScrubber(std::vector<std::string> secrets) : secrets_(std::move(secrets)) {
  secrets_.erase(std::remove(secrets_.begin(), secrets_.end(), std::string()), secrets_.end());
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& s : secrets_) {
    patterns_.push_back(s);
    std::string escaped = json_escaped(s);
    if (escaped != s) patterns_.push_back(std::move(escaped));
  }
}

bool ValueScrubber::scrub_text(std::string& text) const {
  // A short secret only as a whole value: "ab" inside every word is no leak.
  for (const auto& s : secrets_) {
    if (s.size() < kMinSubstringSecret && text == s) {
      text = kRedactedMark;
      return true;
    }
  }
  bool changed = false;
  std::string out;
  std::size_t from = 0;
  while (from < text.size()) {
    std::size_t best = std::string::npos;
    std::size_t length = 0;
    for (const auto& s : secrets_) {
      if (s.size() < kMinSubstringSecret) continue;
      const std::size_t pos = text.find(s, from);
      if (pos < best) {  // longest first: an equal start keeps the longer one
        best = pos;
        length = s.size();
      }
    }
    if (best == std::string::npos) break;
    out.append(text, from, best - from);
    out.append(kRedactedMark);
    from = best + length;
    changed = true;
  }
  if (!changed) return false;
  out.append(text, from, std::string::npos);
  text = std::move(out);
  return true;
}

bool ValueScrubber::scrub(nlohmann::json& value) const {
  bool changed = false;
  switch (value.type()) {
    case nlohmann::json::value_t::string:
      changed = scrub_text(value.get_ref<std::string&>());
      break;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: {
      std::string text = value.dump();
      if (scrub_text(text)) {
        value = std::string(kRedactedMark);
        changed = true;
      }
      break;
    }
    case nlohmann::json::value_t::array:
      for (auto& v : value) changed = scrub(v) || changed;
      break;
    case nlohmann::json::value_t::object: {
      nlohmann::json out = nlohmann::json::object();
      for (auto it = value.begin(); it != value.end(); ++it) {
        std::string key = it.key();
        changed = scrub_text(key) || changed;
        nlohmann::json v = std::move(it.value());
        changed = scrub(v) || changed;
        out[std::move(key)] = std::move(v);
      }
      value = std::move(out);
      break;
    }
    default: break;
  }
  return changed;
}

bool ValueScrubber::scrub_line(std::string& line) const {
  if (secrets_.empty()) return false;
  bool hit = false;
  for (const auto& p : patterns_) {
    if (line.find(p) != std::string::npos) {
      hit = true;
      break;
    }
  }
  if (!hit) return false;
  nlohmann::json doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // Not JSON (cannot happen for a RowWriter line): withhold it whole.
    line = nlohmann::json(std::string(kRedactedMark)).dump();
    return true;
  }
  if (!scrub(doc)) return false;  // e.g. a short secret inside a longer word
  line = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return true;
}

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
