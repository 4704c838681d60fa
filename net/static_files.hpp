#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "net/http_routes.hpp"

namespace tickgate::net {

/// A file compiled into the node (net/embed_files.cmake writes the table).
struct embedded_file {
  std::string_view url;  // where it is served, e.g. /dashboard/dashboard.js
  std::string_view body;
  std::string_view etag; // quoted, from the file's SHA-1
};

/// Every embedded file: net/dashboard/* under /dashboard/, the JavaScript
/// client (clients/js/index.js and src/) and its page (clients/js/page/*)
/// under /client/.
const std::vector<embedded_file>& embedded_files();

/// The embedded file `path` names (a folder's path, with or without its
/// trailing slash, names its index.html), or null.
const embedded_file* find_embedded_file(std::string_view path);

/// Content-Type for a file name's extension.
std::string_view content_type_of(std::string_view name);

/// GET or HEAD of an embedded file: 200 with the file (no-cache: a browser
/// revalidates by ETag and gets 304 while it is unchanged), 405 for other
/// methods; nullopt when `req` names no embedded file.
std::optional<http_response> static_file_response(const http_request& req);

} // namespace tickgate::net
