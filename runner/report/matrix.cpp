#include "runner/report/matrix.h"

#include "runner/judge/judge.h"
#include "base/files.h"
#include "runner/vm_config.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

constexpr const char* kBegin = "<!-- matrix:begin -->";
constexpr const char* kEnd = "<!-- matrix:end -->";

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return s;
}

// Markdown table cells: a '|' would split the cell, a newline the row.
std::string cell_text(const std::string& s) {
  std::string o;
  for (char c : s) o += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
  return o;
}

std::string result_cell(const json& r) {
  std::string v = upper(r.value("verdict", std::string("?")));
  const json reasons = r.value("reasons", json::array());
  std::string first = !reasons.empty() && reasons[0].is_string() ? reasons[0].get<std::string>() : "";
  if (v == "PASS" || v == "FAIL" || v == "XFAIL" || v == "FIXED") {
    double secs = r.contains("seconds") && r["seconds"].is_number() ? r["seconds"].get<double>() : 0;
    return v + " " + std::to_string(std::lround(secs)) + " s";
  }
  if (v == "SKIP") return "SKIP (" + first + ")";
  return v;
}

struct Run {
  std::map<std::string, json> results;  // by scenario name
  KernelVersion kernel;
};

Run read_run(const std::string& dir) {
  Run run;
  std::vector<fs::path> files;
  for (auto& group : fs::directory_iterator(dir)) {
    if (!group.is_directory()) continue;
    for (auto& sc : fs::directory_iterator(group.path()))
      if (base::exists((sc.path() / "result.json").string())) files.push_back(sc.path() / "result.json");
  }
  std::sort(files.begin(), files.end());
  for (auto& f : files) {
    json r = json::parse(base::read_file(f.string()), nullptr, false);
    if (!r.is_object() || !r.contains("name") || !r["name"].is_string())
      throw std::runtime_error(f.string() + ": not a vm-test result");
    if (!run.kernel.known()) run.kernel = parse_kernel_version(r.value("kernel_version", std::string()));
    run.results[r["name"].get<std::string>()] = r;
  }
  return run;
}

}  // namespace

MatrixColumn parse_matrix_column(const std::string& arg) {
  auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
    throw std::runtime_error("expected LABEL=DIR, got '" + arg + "'");
  MatrixColumn c{arg.substr(0, eq), arg.substr(eq + 1)};
  if (!fs::is_directory(c.dir)) throw std::runtime_error(c.dir + ": not a directory (a vm-test --out DIR)");
  return c;
}

std::string verdict_matrix(const std::vector<MatrixColumn>& columns, const std::vector<Scenario>& catalogue) {
  std::vector<Run> runs;
  for (auto& c : columns) runs.push_back(read_run(c.dir));
  std::map<std::string, const Scenario*> by_name;
  for (auto& s : catalogue) by_name[s.name] = &s;
  std::set<std::string> names;
  for (auto& s : catalogue) names.insert(s.name);
  for (auto& r : runs)
    for (auto& [n, _] : r.results) names.insert(n);
  std::string out = "| scenario |";
  std::string rule = "|---|";
  for (size_t i = 0; i < columns.size(); ++i) {
    out += " " + cell_text(columns[i].label) + (runs[i].kernel.known() ? " " + runs[i].kernel.str() : "") + " |";
    rule += "---|";
  }
  out += "\n" + rule + "\n";
  for (auto& n : names) {
    out += "| " + cell_text(n) + " |";
    for (auto& run : runs) {
      std::string cell;
      auto it = run.results.find(n);
      auto sc = by_name.find(n);
      if (it != run.results.end()) {
        cell = result_cell(it->second);
      } else if (sc != by_name.end() && sc->second->skip) {
        cell = "SKIP (" + *sc->second->skip + ")";
      } else if (sc != by_name.end() && !sc->second->kernel.empty() && run.kernel.known() &&
                 kernel_gate(sc->second->kernel, run.kernel)) {
        cell = "SKIP (gate: " + sc->second->kernel + ")";
      } else {
        cell = "not run";
      }
      out += " " + cell_text(cell) + " |";
    }
    out += "\n";
  }
  return out;
}

std::string replace_matrix(const std::string& doc, const std::string& table, const std::string& doc_name) {
  auto b = doc.find(kBegin);
  auto e = doc.find(kEnd);
  if (b == std::string::npos || e == std::string::npos || e < b)
    throw std::runtime_error(doc_name + ": needs the lines " + kBegin + " and " + kEnd + " (in that order)");
  auto after_begin = doc.find('\n', b);
  if (after_begin == std::string::npos || after_begin > e)
    throw std::runtime_error(doc_name + ": " + kBegin + " and " + kEnd + " must be on lines of their own");
  return doc.substr(0, after_begin + 1) + table + doc.substr(e);
}

std::vector<Scenario> load_catalogue(const std::string& dir) {
  std::vector<std::string> files;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".toml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<Scenario> out;
  for (auto& f : files) out.push_back(load_scenario(f));
  return out;
}

void register_matrix_command(CLI::App& app) {
  struct Opts {
    std::vector<std::string> runs;
    std::string scenarios = std::string(FSFAULT_SOURCE_DIR) + "/guest-tests/scenarios";
    std::string update_doc;
  };
  auto o = std::make_shared<Opts>();
  auto* m = app.add_subcommand("matrix", "print the verdict matrix (markdown) of vm-test --out directories");
  m->add_option("runs", o->runs, "LABEL=DIR: a column, from a vm-test --out DIR")->required();
  m->add_option("--scenarios", o->scenarios, "the catalogue (default guest-tests/scenarios)");
  m->add_option("--update-doc", o->update_doc,
                "replace the text between <!-- matrix:begin --> and <!-- matrix:end --> in FILE");
  m->callback([o] {
    try {
      std::vector<MatrixColumn> cols;
      for (auto& r : o->runs) cols.push_back(parse_matrix_column(r));
      std::string table = verdict_matrix(cols, load_catalogue(o->scenarios));
      std::cout << table;
      if (!o->update_doc.empty())
        base::write_file(o->update_doc, replace_matrix(base::read_file(o->update_doc), table, o->update_doc));
    } catch (const std::exception& e) {
      std::cerr << "fsfault matrix: " << e.what() << "\n";
      throw CLI::RuntimeError(2);
    }
  });
}

}  // namespace fsfault::vm
