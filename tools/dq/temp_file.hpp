// A file in the temp folder ($TMPDIR), removed when the object goes away and also when the
// process is ended by SIGINT, SIGTERM or SIGHUP (signal_cleanup.hpp): a killed `dq load`
// leaves no generated model behind.
#pragma once

#include <cstdint>
#include <string>

namespace dq::tool {

class TempFile {
 public:
  TempFile() = default;
  // "<tmp>/<stem>-XXXXXX<suffix>"; throws std::runtime_error when it cannot be created, or
  // when the folder has less free space than the `will_hold` bytes to be written to it (a
  // disk filled up to the failing write would starve everything else on it meanwhile).
  static TempFile create(const std::string &stem, const std::string &suffix = ".gguf",
                         uint64_t will_hold = 0);
  TempFile(TempFile &&o) noexcept;
  TempFile &operator=(TempFile &&o) noexcept;
  ~TempFile();
  const std::string &path() const { return path_; }

 private:
  void remove();

  std::string path_;
  int signal_slot_ = -1;
};

}  // namespace dq::tool
