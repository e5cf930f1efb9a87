#include "driver_manifests.hpp"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace dq::vulkan {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split_paths(const char *list) {
  std::vector<std::string> out;
  std::stringstream ss(list ? list : "");
  for (std::string item; std::getline(ss, item, ':');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string env_or(const char *name, const std::string &fallback) {
  const char *v = std::getenv(name);
  return v && *v ? v : fallback;
}

// The "library_path" string of a manifest (a small JSON file), or "".
std::string library_path_of(const fs::path &file) {
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t key = text.find("\"library_path\"");
  if (key == std::string::npos) return "";
  const size_t open = text.find('"', text.find(':', key) + 1);
  const size_t close = open == std::string::npos ? open : text.find('"', open + 1);
  return close == std::string::npos ? "" : text.substr(open + 1, close - open - 1);
}

bool is_cpu_driver(const std::string &library) {
  const std::string name = fs::path(library).filename().string();
  return name.find("lvp") != std::string::npos || name.find("swiftshader") != std::string::npos;
}

// A manifest file, or every .json of a folder.
void add(const fs::path &p, std::vector<DriverManifest> &out) {
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    for (const auto &e : fs::directory_iterator(p, ec))
      if (e.path().extension() == ".json") add(e.path(), out);
    return;
  }
  if (!fs::is_regular_file(p, ec)) return;
  DriverManifest m;
  m.path = p.string();
  m.library_path = library_path_of(p);
  m.cpu = is_cpu_driver(m.library_path);
  out.push_back(m);
}

}  // namespace

std::vector<DriverManifest> find_driver_manifests() {
  std::vector<DriverManifest> out;
  const char *only = std::getenv("VK_DRIVER_FILES");
  if (!only || !*only) only = std::getenv("VK_ICD_FILENAMES");
  if (only && *only) {
    for (const auto &p : split_paths(only)) add(p, out);
    return out;
  }
  const std::string home = env_or("HOME", "");
  std::vector<std::string> roots;
  roots.push_back(env_or("XDG_CONFIG_HOME", home.empty() ? "" : home + "/.config"));
  for (const auto &d : split_paths(env_or("XDG_CONFIG_DIRS", "/etc/xdg").c_str())) roots.push_back(d);
  roots.push_back("/etc");
  roots.push_back(env_or("XDG_DATA_HOME", home.empty() ? "" : home + "/.local/share"));
  for (const auto &d : split_paths(env_or("XDG_DATA_DIRS", "/usr/local/share:/usr/share").c_str()))
    roots.push_back(d);
  for (const auto &r : roots)
    if (!r.empty()) add(fs::path(r) / "vulkan" / "icd.d", out);
  for (const auto &p : split_paths(std::getenv("VK_ADD_DRIVER_FILES"))) add(p, out);
  return out;
}

std::string cpu_only_reason(const std::vector<DriverManifest> &manifests) {
  const char *cpu = std::getenv("DQ_VULKAN_CPU");
  if (cpu && std::strcmp(cpu, "1") == 0) return "";
  std::string names;
  for (const auto &m : manifests) {
    if (!m.cpu) return "";  // a GPU driver (or one we cannot tell): open the loader
    names += (names.empty() ? "" : ", ") + m.path;
  }
  if (manifests.empty()) return "";  // let the loader say what it finds
  return "only CPU Vulkan drivers are installed (" + names +
         "); set DQ_VULKAN_CPU=1 to use them (left unloaded by default: docs/VULKAN.md)";
}

}  // namespace dq::vulkan
