#pragma once

#include "util.hpp"

namespace outpost::hub {

/// What a masked secret reads as in the admin API.
inline constexpr std::string_view kMasked = "********";

/// A source config as GET /v1/admin/sources shows it (hub-v2 §3): every
/// literal secret replaced by "********" — values under secret-looking keys
/// (password, *secret*, *token*, *key* that names no file, ... — the
/// agent's own security::is_secret_key), the password of a URI's user-info
/// and `password=` / `Pwd=`-style pairs inside connection strings; when a
/// string still holds a literal secret the agent's check would find
/// (security::find_literal_secret), the whole string is masked. Secret
/// references (`${env:…}`, `${file:…}`) are shown as written.
Json mask_secrets(const Json& config);

}  // namespace outpost::hub
