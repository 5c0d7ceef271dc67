#pragma once

#include "common/url.hpp"

namespace outpost::http {

/// The HTTP facade's URL is the one URL type of the tree (common/url.hpp):
/// the client, proxy selection and configuration all parse with it.
using Url = common::Url;
using common::is_loopback_host;
using common::parse_url;

}  // namespace outpost::http
