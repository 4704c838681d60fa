#include "net/static_files.hpp"

namespace tickgate::net {

namespace http = boost::beast::http;

const embedded_file* find_embedded_file(std::string_view path) {
  std::string index;
  auto& files = embedded_files();
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (auto& f : files)
      if (f.url == path)
        return &f;
    // A folder: its index.html.
    index = std::string{path};
    if (index.empty() || index.back() != '/')
      index += '/';
    index += "index.html";
    path = index;
  }
  return nullptr;
}

std::string_view content_type_of(std::string_view name) {
  auto dot = name.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  if (ext == "html")
    return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs")
    return "text/javascript; charset=utf-8";
  if (ext == "css")
    return "text/css; charset=utf-8";
  if (ext == "json")
    return "application/json";
  if (ext == "svg")
    return "image/svg+xml";
  if (ext == "png")
    return "image/png";
  if (ext == "ico")
    return "image/x-icon";
  if (ext == "ts")
    return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

std::optional<http_response> static_file_response(const http_request& req) {
  auto path = target_path(req.target());
  if (!path.starts_with("/dashboard") && !path.starts_with("/client/"))
    return std::nullopt;
  auto* file = find_embedded_file(path);
  if (!file)
    return std::nullopt;
  auto method = req.method();
  if (method != http::verb::get && method != http::verb::head)
    return error_response(req, http::status::method_not_allowed, "use GET");
  bool fresh = req[http::field::if_none_match] == file->etag;
  http_response res{fresh ? http::status::not_modified : http::status::ok, req.version()};
  res.set(http::field::server, "tickgate");
  res.set(http::field::content_type, content_type_of(file->url));
  res.set(http::field::etag, file->etag);
  res.set(http::field::cache_control, "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(req.keep_alive());
  if (!fresh && method == http::verb::get)
    res.body() = std::string{file->body};
  if (!fresh)
    res.content_length(file->body.size());
  return res;
}

} // namespace tickgate::net
