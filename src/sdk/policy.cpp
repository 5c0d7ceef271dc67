#include "outpost/policy.hpp"

namespace outpost {

const OperatorPolicy& default_operator_policy() noexcept {
  static const OperatorPolicy policy;
  return policy;
}

bool privileged_login_allowed(const OperatorPolicy& policy, const Source& source) {
  if (policy.allow_privileged_logins) return true;
  if (source.ref.empty() || !source.config.is_object()) return false;
  const auto it = source.config.find(kAllowPrivilegedLoginKey);
  return it != source.config.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace outpost
