// fsfault matrix: the table from vm-test --out directories and the catalogue, and the doc update.
#include "runner/report/matrix.h"
#include "base/files.h"
#include "runner/test_temp_dir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

using namespace fsfault::vm;
using fsfault::vm::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// One result.json where vm-test --out puts it (DIR/<group>/<name>/result.json).
void put_result(const fs::path& out, const std::string& name, const std::string& verdict, double secs,
                const std::string& reason = "") {
  fs::create_directories(out / name);
  json r{{"name", name}, {"verdict", verdict}, {"seconds", secs}, {"reasons", json::array()},
         {"kernel_version", "6.1.0-50-cloud-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (2026-07-02)"}};
  if (!reason.empty()) r["reasons"].push_back(reason);
  fsfault::base::write_file((out / name / "result.json").string(), r.dump());
}

Scenario scenario(const std::string& text) { return parse_scenario_text(text, "s.toml"); }

}  // namespace

TEST(Matrix, CellsFromResultsAndGatesFromTheCatalogue) {
  TempDir t;
  fs::path bw = t.dir / "bw";
  put_result(bw, "ext4/a", "pass", 4.6);
  put_result(bw, "ext4/b", "fail", 12.2, "expected 1, saw 0");
  put_result(bw, "ext4/c", "timeout", 300);
  put_result(bw, "runner/extra", "pass", 1);
  std::vector<Scenario> cat = {scenario("name = \"ext4/a\"\n"), scenario("name = \"ext4/b\"\n"),
                               scenario("name = \"ext4/c\"\n"),
                               scenario("name = \"xfs/new\"\nkernel = \">=7.0\"\n"),
                               scenario("name = \"xfs/old\"\nkernel = \"<7.0\"\n"),
                               scenario("name = \"x/skipped\"\nskip = \"needs | a pipe\"\n")};
  std::string m = verdict_matrix({parse_matrix_column("bookworm=" + bw.string())}, cat);
  EXPECT_EQ(m,
            "| scenario | bookworm 6.1.176 |\n"
            "|---|---|\n"
            "| ext4/a | PASS 5 s |\n"
            "| ext4/b | FAIL 12 s |\n"
            "| ext4/c | TIMEOUT |\n"
            "| runner/extra | PASS 1 s |\n"
            "| x/skipped | SKIP (needs \\| a pipe) |\n"
            "| xfs/new | SKIP (gate: >=7.0) |\n"
            "| xfs/old | not run |\n");
}

TEST(Matrix, ColumnsAndDocMarkers) {
  TempDir t;
  EXPECT_THROW(parse_matrix_column("nolabel"), std::runtime_error);
  EXPECT_THROW(parse_matrix_column("=dir"), std::runtime_error);
  EXPECT_THROW(parse_matrix_column("x=" + (t.dir / "absent").string()), std::runtime_error);
  const std::string doc = "# T\n<!-- matrix:begin -->\nold\ntable\n<!-- matrix:end -->\nafter\n";
  EXPECT_EQ(replace_matrix(doc, "| new |\n", "d.md"), "# T\n<!-- matrix:begin -->\n| new |\n<!-- matrix:end -->\nafter\n");
  // Idempotent: running it twice gives the same document.
  EXPECT_EQ(replace_matrix(replace_matrix(doc, "| n |\n", "d.md"), "| n |\n", "d.md"),
            replace_matrix(doc, "| n |\n", "d.md"));
  for (std::string bad : {"no markers\n", "<!-- matrix:end -->\n<!-- matrix:begin -->\n", "<!-- matrix:begin -->\n"}) {
    try {
      replace_matrix(bad, "x", "d.md");
      ADD_FAILURE() << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("d.md: ", 0), 0u) << e.what();
    }
  }
}

TEST(Matrix, TheRealCatalogueLoads) {
  EXPECT_GE(load_catalogue(FSFAULT_SCENARIOS_DIR).size(), 10u);
}

TEST(Matrix, KnownGapCells) {
  TempDir t;
  fs::path bw = t.dir / "bw";
  put_result(bw, "ext4/gap", "xfail", 9.4, "known gap: no event (__ext4_grp_locked_error)");
  put_result(bw, "xfs/gone", "fixed", 20.6, "known gap no longer present: update the catalogue (no ESHUTDOWN)");
  std::string m = verdict_matrix({parse_matrix_column("bookworm=" + bw.string())}, {});
  EXPECT_EQ(m,
            "| scenario | bookworm 6.1.176 |\n"
            "|---|---|\n"
            "| ext4/gap | XFAIL 9 s |\n"
            "| xfs/gone | FIXED 21 s |\n");
}
