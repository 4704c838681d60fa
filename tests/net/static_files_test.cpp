// The files compiled into the node: every dashboard and client file on disk
// is served, byte for byte, under its URL, with an ETag browsers revalidate.

#include "net/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

using namespace tickgate::net;
namespace http = boost::beast::http;

namespace {

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

http_request get(std::string target, http::verb verb = http::verb::get) {
  http_request req{verb, target, 11};
  return req;
}

// Every regular file directly in `dir` but README.md is served at prefix + name.
void expect_served(const std::filesystem::path& dir, const std::string& prefix) {
  if (!std::filesystem::exists(dir))
    return;
  for (auto& entry : std::filesystem::directory_iterator{dir}) {
    auto name = entry.path().filename().string();
    if (!entry.is_regular_file() || name == "README.md")
      continue;
    auto* f = find_embedded_file(prefix + name);
    ASSERT_NE(f, nullptr) << prefix + name;
    EXPECT_EQ(f->body, file_text(entry.path())) << prefix + name;
  }
}

} // namespace

TEST(static_files, every_client_and_dashboard_file_is_embedded_as_it_is_on_disk) {
  std::filesystem::path root{TICKGATE_SOURCE_DIR};
  auto* index = find_embedded_file("/client/index.js");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->body, file_text(root / "clients/js/index.js"));
  expect_served(root / "clients/js/src", "/client/src/");
  expect_served(root / "clients/js/page", "/client/");
  expect_served(root / "net/dashboard", "/dashboard/");
  EXPECT_EQ(find_embedded_file("/client/src/missing.js"), nullptr);
  EXPECT_EQ(find_embedded_file("/etc/passwd"), nullptr);
  EXPECT_EQ(find_embedded_file("/client/../CMakeLists.txt"), nullptr);
  if (std::filesystem::exists(root / "net/dashboard/index.html")) {
    EXPECT_EQ(find_embedded_file("/dashboard"), find_embedded_file("/dashboard/index.html"));
    EXPECT_EQ(find_embedded_file("/dashboard/"), find_embedded_file("/dashboard/index.html"));
  }
}

TEST(static_files, content_types_follow_the_extension) {
  EXPECT_EQ(content_type_of("/dashboard/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_of("/client/index.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_of("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_of("a.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_of("noext"), "application/octet-stream");
}

TEST(static_files, answers_get_and_head_with_an_etag_and_304_when_it_still_matches) {
  auto res = static_file_response(get("/client/index.js"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), http::status::ok);
  EXPECT_EQ(res->body(), find_embedded_file("/client/index.js")->body);
  EXPECT_EQ((*res)[http::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ((*res)[http::field::cache_control], "no-cache");
  auto etag = std::string{(*res)[http::field::etag]};
  EXPECT_EQ(etag.size(), 18u); // 16 hex digits in quotes
  EXPECT_EQ(etag.front(), '"');

  auto again = get("/client/index.js");
  again.set(http::field::if_none_match, etag);
  auto cached = static_file_response(again);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->result(), http::status::not_modified);
  EXPECT_TRUE(cached->body().empty());

  auto head = static_file_response(get("/client/index.js", http::verb::head));
  ASSERT_TRUE(head);
  EXPECT_TRUE(head->body().empty());
  EXPECT_EQ((*head)[http::field::content_length],
            std::to_string(find_embedded_file("/client/index.js")->body.size()));

  auto post = static_file_response(get("/client/index.js", http::verb::post));
  ASSERT_TRUE(post);
  EXPECT_EQ(post->result(), http::status::method_not_allowed);
  EXPECT_FALSE(static_file_response(get("/api/stats")));
  EXPECT_FALSE(static_file_response(get("/client/none.js")));
}
