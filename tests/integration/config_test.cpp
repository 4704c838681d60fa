// The config file is read strictly: a key no option declares, or a value of
// the wrong type, stops the node at start (exit code 2, as a bad flag does)
// with the file, line and key named, instead of silently running a default.

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "support/node_process.hpp"

using tickgate::test::node_process;
using tickgate::test::run_command;
using tickgate::test::tickgate_binary;

namespace {

// A config file in a directory of its own, removed with it.
class config_file {
public:
  explicit config_file(const std::string& text) {
    char tmpl[] = "/tmp/tickgate-config-XXXXXX";
    if (!mkdtemp(tmpl))
      throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    path_ = dir_ + "/node.ini";
    std::ofstream{path_} << text;
  }
  ~config_file() {
    std::remove(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

private:
  std::string dir_;
  std::string path_;
};

// Starts the node on `file`; a refused file ends it at once, an accepted
// one would run until `timeout` ends it (exit code 124).
tickgate::test::command_result start_with(const config_file& file) {
  return run_command("timeout 20 " + tickgate_binary() + " --config-file=" + file.path()
                     + " --ws.host=127.0.0.1 --ws.port=0 --admin.port=0");
}

} // namespace

TEST(config_file, an_unknown_key_is_refused_with_its_file_and_line) {
  config_file file{"[global]\ndemo=false\n\n[ws]\nport=0\nprot=8080\n"};
  auto r = start_with(file);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("config.invalid " + file.path() + ":6: unknown key 'ws.prot'"),
            std::string::npos)
    << r.out;
}

TEST(config_file, a_value_of_the_wrong_type_is_refused_with_its_file_and_line) {
  config_file file{"; rates\n[global]\ndemo-rate=20\n"};
  auto r = start_with(file);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("config.invalid " + file.path() + ":3: 'global.demo-rate' takes a real64, not 20 (write 20.0)"),
            std::string::npos)
    << r.out;
}

TEST(config_file, a_number_where_a_list_belongs_is_refused_too) {
  config_file file{"[ws]\nendpoints=[\"/v1=native\",\n  \"/=auto\"]\nmax-subscriptions=\"many\"\n"};
  auto r = start_with(file);
  EXPECT_EQ(r.code, 2) << r.out;
  // The list over lines 2-3 is fine; line 4 is the one named.
  EXPECT_NE(r.out.find(file.path() + ":4: 'ws.max-subscriptions'"), std::string::npos) << r.out;
}

TEST(config_file, the_shipped_config_is_accepted) {
  node_process node({"--config-file=" + std::string{TICKGATE_SOURCE_DIR} + "/configs/tickgate.ini"});
  EXPECT_NE(node.port(), 0);
  EXPECT_EQ(node.log().find("config.invalid"), std::string::npos) << node.log();
}

TEST(config_file, cafs_own_sections_are_accepted) {
  config_file file{"[global]\ndemo-rate=5.0\n[scheduler]\npolicy='sharing'\nmax-threads=1\n"
                   "[middleman]\nheartbeat-interval=1s\n[logger]\nverbosity='quiet'\n"};
  node_process node({"--config-file=" + file.path()});
  EXPECT_NE(node.port(), 0);
}
