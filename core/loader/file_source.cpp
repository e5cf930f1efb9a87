// The model's descriptors for pread() (see file_source.hpp).
#include "loader/file_source.hpp"

#include <algorithm>

#include "gguf/model.hpp"

namespace dq::loader {

FileSource::FileSource(const dq_model *model) {
  if (!model) return;
  for (const auto &part : model->parts) {
    fds_.push_back(part->map ? part->map->fd() : -1);
    paths_.push_back(part->path);
  }
}

int FileSource::open_count() const {
  return static_cast<int>(std::count_if(fds_.begin(), fds_.end(), [](int fd) { return fd >= 0; }));
}

}  // namespace dq::loader
