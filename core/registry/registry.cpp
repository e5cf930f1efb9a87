// Registry: discovery, loading order, duplicate names, lookup and logged selection.
#include "registry/registry.hpp"

#include "dq_common/type_traits.hpp"
#include "registry/plugin_library.hpp"

namespace dq::core {

Registry::Registry(Settings settings) : settings_(std::move(settings)), log_(settings_.log_level) {
  for (const auto &w : settings_.warnings) write_stderr_line(w);
  discover();
  warn_unknown_backend_names();
  cache_ = std::make_unique<SelectionCache>(backends_.size());
}

// A DQ_BACKEND name no plugin has is most likely a typo: say so now, not at the first call.
void Registry::warn_unknown_backend_names() const {
  std::string found;
  for (const auto &b : backends_)
    if (b.state != BackendState::skipped) found += (found.empty() ? "" : ", ") + b.name;
  for (const auto &name : settings_.backend_order) {
    if (find(name) || !is_backend_name(name)) continue;  // bad syntax was reported already
    write_stderr_line("DQ_BACKEND='" + settings_.backend_env + "': no plugin named '" + name +
                      "' was found (found: " + (found.empty() ? "none" : found) + ")");
  }
}

// Unload policy: plugins stay loaded for the registry's whole life (no unloading with work
// in flight); here each gets shutdown() then lt_dlclose, via the process-wide reference count.
Registry::~Registry() {
  for (auto it = backends_.rbegin(); it != backends_.rend(); ++it)
    if (it->state != BackendState::skipped) release_plugin(*it);
}

void Registry::discover() {
  folders_ = plugin_search_folders(settings_, log_);
  for (const auto &folder : folders_)
    for (const auto &file : plugin_files_in(folder, log_)) add_plugin(file);
  if (backends_.empty()) log_.warn("no plugin found (searched: " + searched_text() + ")");
}

void Registry::add_plugin(const PluginFile &file) {
  Backend b;
  b.name = file.name;
  b.path = file.path;
  // A later file of a name is opened only while no earlier one loaded: a broken file early in
  // the search (a stray text file named libdq-cpu.so) must not hide a working plugin.
  const Backend *first = find(file.name);
  if (first && first->loaded()) {
    b.state = BackendState::skipped;
    b.status = "skipped: '" + file.name + "' already found at " + first->path;
    log_.info(file.path + " " + b.status);
  } else {
    acquire_plugin(b, log_);
  }
  backends_.push_back(std::move(b));
}

const Backend *Registry::find(std::string_view name) const {
  const int i = index_of(name);
  return i < 0 ? nullptr : &backends_[i];
}

int Registry::index_of(std::string_view name) const {
  int first_tried = -1;
  for (size_t i = 0; i < backends_.size(); ++i) {
    const Backend &b = backends_[i];
    if (b.name != name || b.state == BackendState::skipped) continue;
    if (b.loaded()) return static_cast<int>(i);
    if (first_tried < 0) first_tried = static_cast<int>(i);
  }
  return first_tried;
}

std::string Registry::searched_text() const {
  std::string text;
  for (const auto &f : folders_)
    text += (text.empty() ? "" : ", ") + f.path + " (" + f.origin + ")";
  return text.empty() ? "no folder" : text;
}

SelectionPolicy Registry::policy() const {
  SelectionPolicy p;
  p.order = settings_.backend_order;
  p.order_text = settings_.backend_env;
  p.gpu_min_bytes = settings_.gpu_min_bytes;
  p.searched = searched_text();
  return p;
}

namespace {

Candidate candidate_for(const Backend &b, const DequantizeTarget &t) {
  Candidate c;
  c.name = b.name;
  c.state = b.state;
  c.load_status = b.load_status;
  c.status = b.status;
  c.device_count = b.device_count;
  c.is_gpu = b.has_device_memory;
  c.supports = b.supports(t.src_type, t.dst_type);
  c.device_names = b.device_names;
  return c;
}

SelectionQuery query_for(const DequantizeTarget &t) {
  SelectionQuery q;
  q.src_type_name = dq::type_traits(t.src_type) ? dq::type_traits(t.src_type)->name : "?";
  q.dst_type_name = dq::type_traits(t.dst_type) ? dq::type_traits(t.dst_type)->name : "?";
  q.src_bytes = t.src_bytes;
  if (t.device_backend) q.forced_by = ForcedBy::device_memory, q.forced = t.device_backend;
  if (t.forced) q.forced_by = ForcedBy::request, q.forced = t.forced;
  return q;
}

}  // namespace

bool Registry::supports_cached(size_t i, int32_t src_type, int32_t dst_type) const {
  switch (cache_->supports(i, src_type, dst_type)) {
    case SelectionCache::Support::yes:
      return true;
    case SelectionCache::Support::no:
      return false;
    case SelectionCache::Support::unknown:
      break;
  }
  const bool yes = backends_[i].supports(src_type, dst_type);
  cache_->remember_supports(i, src_type, dst_type, yes);
  return yes;
}

// Mirrors select_backend's success cases: a forced backend (request, device memory or a
// single DQ_BACKEND name) that is loaded, has a device and supports the pair; otherwise the
// remembered choice of the automatic order for that pair and size class.
const Backend *Registry::quick_choice(const DequantizeTarget &t) const {
  if (log_.enabled(LogLevel::debug)) return nullptr;  // every choice is logged with its reason
  std::string_view forced;
  if (t.forced)
    forced = t.forced;
  else if (t.device_backend)
    forced = t.device_backend;
  else if (settings_.backend_order.size() == 1)
    forced = settings_.backend_order.front();
  else {
    const int i = cache_->automatic(t.src_type, t.dst_type, t.src_bytes < settings_.gpu_min_bytes);
    return i < 0 ? nullptr : &backends_[static_cast<size_t>(i)];
  }
  const int i = index_of(forced);
  if (i < 0) return nullptr;
  const Backend &b = backends_[static_cast<size_t>(i)];
  if (!b.loaded() || b.device_count <= 0) return nullptr;
  return supports_cached(static_cast<size_t>(i), t.src_type, t.dst_type) ? &b : nullptr;
}

Choice Registry::select(const DequantizeTarget &target) const {
  if (const Backend *b = quick_choice(target)) return Choice{b, DQ_OK, {}};
  std::vector<Candidate> candidates;
  candidates.reserve(backends_.size());
  for (const auto &b : backends_) candidates.push_back(candidate_for(b, target));
  const SelectionQuery query = query_for(target);
  Selection s = select_backend(candidates, query, policy());
  for (const auto &note : s.notes) log_.debug(note);
  const std::string head = "tensor " + std::string(query.src_type_name) + " " +
                           std::to_string(target.src_bytes) + " B -> ";
  Choice choice{nullptr, s.status, s.reason};
  if (s.index < 0) {
    log_.debug(head + "none: " + s.reason);
    return choice;
  }
  choice.backend = &backends_[s.index];
  if (query.forced_by == ForcedBy::none && settings_.backend_order.size() != 1)
    cache_->remember_automatic(target.src_type, target.dst_type,
                               target.src_bytes < settings_.gpu_min_bytes, s.index);
  log_.debug(head + choice.backend->name + " (" + s.reason + ")");
  return choice;
}

}  // namespace dq::core
