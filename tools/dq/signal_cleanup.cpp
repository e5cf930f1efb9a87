#include "signal_cleanup.hpp"

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace dq::tool {
namespace {

// Fixed storage: the handler may only read memory that is never reallocated. A slot's path is
// written while the slot is kWriting and published by the store of kActive, so the handler
// never sees half a path.
constexpr int kSlots = 16;
enum : int { kFree = 0, kWriting = 1, kActive = 2 };
std::atomic<int> g_state[kSlots];
char g_path[kSlots][PATH_MAX];
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void unlink_and_reraise(int sig) {
  const int saved_errno = errno;
  for (int i = 0; i < kSlots; ++i)
    if (g_state[i].load(std::memory_order_acquire) == kActive) unlink(g_path[i]);
  // Default action, then the same signal: the process ends as if there were no handler.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  sigset_t unblock;
  sigemptyset(&unblock);
  sigaddset(&unblock, sig);
  raise(sig);
  sigprocmask(SIG_UNBLOCK, &unblock, nullptr);
  errno = saved_errno;  // reached only when the signal's default action is not to end
}

void install_handlers() {
  for (int sig : kSignals) {
    struct sigaction old {};
    sigaction(sig, nullptr, &old);
    // A signal the parent set to ignored (nohup, a shell's background job's SIGINT) stays so.
    if (old.sa_handler == SIG_IGN) continue;
    struct sigaction sa {};
    sa.sa_handler = unlink_and_reraise;
    sigemptyset(&sa.sa_mask);
    for (int other : kSignals) sigaddset(&sa.sa_mask, other);  // one cleanup at a time
    sigaction(sig, &sa, nullptr);
  }
}

}  // namespace

int remove_on_signal(const std::string &path) {
  static std::once_flag installed;
  std::call_once(installed, install_handlers);
  if (path.size() >= PATH_MAX) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!g_state[i].compare_exchange_strong(expected, kWriting)) continue;
    std::memcpy(g_path[i], path.c_str(), path.size() + 1);
    g_state[i].store(kActive, std::memory_order_release);
    return i;
  }
  return -1;
}

void forget_on_signal(int slot) {
  if (slot >= 0 && slot < kSlots) g_state[slot].store(kFree, std::memory_order_release);
}

}  // namespace dq::tool
