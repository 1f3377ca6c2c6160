// `fsfault matrix`: the verdict matrix of docs/scenarios.md, generated from vm-test --out
// directories (their */*/result.json) and the catalogue, so that scenarios a kernel gate kept
// from running (they write no result) still get a row and the gate as the reason.
#pragma once

#include "runner/scenario/scenario.h"

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fsfault::vm {

struct MatrixColumn {
  std::string label;  // e.g. "bookworm"
  std::string dir;    // a vm-test --out directory
};

// "LABEL=DIR" (the label may not be empty, DIR must exist). Throws std::runtime_error.
MatrixColumn parse_matrix_column(const std::string& arg);

// A markdown table: one row per scenario of the catalogue or of any result, one column per run.
// A cell is the result's verdict (PASS/FAIL/XFAIL/FIXED with whole seconds, SKIP with its reason, TIMEOUT,
// ERROR, INTERRUPTED); without a result, "SKIP (gate: RANGE)" when the scenario's kernel gate
// excludes the run's kernel (its version read from the run's results), "SKIP (REASON)" for
// skip = "REASON", else "not run". Column headers carry the kernel version when known.
std::string verdict_matrix(const std::vector<MatrixColumn>& columns, const std::vector<Scenario>& catalogue);

// `doc` with the text between the lines "<!-- matrix:begin -->" and "<!-- matrix:end -->"
// replaced by `table`. Throws (naming `doc_name`) when a marker is missing or out of order.
std::string replace_matrix(const std::string& doc, const std::string& table, const std::string& doc_name);

// Every *.toml under `dir`, loaded. Throws on the first invalid file.
std::vector<Scenario> load_catalogue(const std::string& dir);

void register_matrix_command(CLI::App& app);

}  // namespace fsfault::vm
