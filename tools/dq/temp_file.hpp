// A file in the temp folder ($TMPDIR), removed when the object goes away and also when the
// process is ended by SIGINT, SIGTERM or SIGHUP (signal_cleanup.hpp): a killed `dq load`
// leaves no generated model behind.
#pragma once

#include <string>

namespace dq::tool {

class TempFile {
 public:
  TempFile() = default;
  // "<tmp>/<stem>-XXXXXX<suffix>"; throws std::runtime_error when it cannot be created.
  static TempFile create(const std::string &stem, const std::string &suffix = ".gguf");
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
