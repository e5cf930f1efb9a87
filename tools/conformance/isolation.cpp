#include "isolation.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "fp_environment.hpp"
#include "guarded_buffer.hpp"
#include "plugin_loader.hpp"
#include "protocol.hpp"
#include "reference.hpp"

namespace dq::conformance {

namespace {

// ---------------------------------------------------------------- child side
int g_report_fd = -1;

void crash_handler(int sig, siginfo_t *info, void *) {
  if ((sig == SIGSEGV || sig == SIGBUS) && info) {
    char text[256];
    const size_t n = describe_guard_fault(reinterpret_cast<uintptr_t>(info->si_addr), text + 2,
                                          sizeof text - 3);
    if (n) {
      text[0] = 'C';
      text[1] = '\t';
      text[2 + n] = '\n';
      ssize_t ignored = write(g_report_fd, text, n + 3);
      (void)ignored;
    }
  }
  signal(sig, SIG_DFL);  // die of the same signal, so the parent can name it
  raise(sig);
}

void install_crash_handler(int fd) {
  g_report_fd = fd;
  static char alt_stack[64 * 1024];  // handles stack overflows in the plugin too
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = crash_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP}) sigaction(sig, &sa, nullptr);
}

class PipeFactSink : public FactSink {
 public:
  explicit PipeFactSink(int fd) : fd_(fd) {}
  void fact(const std::string &key, const std::string &value) override {
    write_line(fd_, {"F", key, value});
  }

 private:
  int fd_;
};

// A group's child lives on --linger-ms (50) after its last check. Work a plugin defers to a
// thread of its own (a timer, a deferred free) would otherwise die with the process unseen; a
// death in this time fails the group as "<last check>+after". Short: it is paid once per group.

[[noreturn]] void child_main(int fd, const RunContext &ctx, const std::string &path,
                             const PluginFacts &facts, const Group &group,
                             const std::vector<bool> &todo, size_t start) {
  dup2(STDERR_FILENO, STDOUT_FILENO);  // plugin chatter must not mix into the table
  install_crash_handler(fd);
  remember_initial_fp_control();  // before anything is loaded (handshake/fp-environment)
  Judge j{ctx.opts, ctx.testdata, facts, path, {}, std::nullopt, {}, nullptr, false, {}};
  PipeFactSink sink(fd);
  if (group.probe) j.fact_sink = &sink;
  if (group.needs_reference) {
    j.reference = load_reference(ctx.reference_path, &j.reference_note);
    // Reference outputs first: the plugin under test cannot influence them.
    if (j.reference)
      for (size_t i = start; i < group.checks.size(); ++i)
        if (todo[i] && group.checks[i].prepare) group.checks[i].prepare(j, group.checks[i]);
  }
  j.plugin = load_plugin(path);
  std::string setup_error;
  if (!group.probe) {
    if (!j.plugin.api) {
      setup_error = "plugin not usable (see the handshake checks)";
    } else {
      j.init_called = true;
      if (const int32_t st = j.api().init(); st != DQ_OK)
        setup_error = "init() failed with status " + std::to_string(st) + " (see handshake/init)";
    }
    // A change made by loading or init() is handshake/fp-environment's to report; the checks
    // start from the state the process had.
    write_fp_control(initial_fp_control());
  }
  for (size_t i = start; i < group.checks.size(); ++i) {
    if (!todo[i]) continue;
    const CheckSpec &s = group.checks[i];
    write_line(fd, {"B", std::to_string(i)});
    Outcome o;
    if (!setup_error.empty()) o = Outcome::skip(setup_error);
    else if (s.needs_reference && !j.reference) o = Outcome::skip(j.reference_note);
    else o = s.fn(j, s);
    // Any plugin call of the check (supports, device_props, ...) must leave the
    // floating-point environment as it was; dequantize calls are also watched one by one.
    if (!group.probe) {
      const uint64_t now = read_fp_control(), before = initial_fp_control();
      if (now != before) {
        if (o.verdict != Verdict::fail)
          o = Outcome::fail("a plugin call of this check changed the floating-point "
                            "environment: " + describe_fp_change(before, now));
        write_fp_control(before);
      }
    }
    write_line(fd, {"R", std::to_string(i), verdict_name(o.verdict), o.message});
  }
  // The probe has unloaded the plugin and waited in handshake/shutdown already.
  if (!group.probe && setup_error.empty())
    std::this_thread::sleep_for(std::chrono::milliseconds(ctx.opts.linger_ms));
  write_line(fd, {"E"});  // all done: a death after this line is not the plugin's
  _exit(0);  // no static destructors of the parent's copy, no plugin unloading races
}

// --------------------------------------------------------------- parent side
std::string signal_label(int sig) {
  const char *abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

Verdict parse_verdict(const std::string &v) {
  return v == "PASS" ? Verdict::pass : v == "FAIL" ? Verdict::fail : Verdict::skip;
}

void apply_fact(PluginFacts *f, const std::string &key, const std::string &value) {
  if (!f) return;
  if (key == "pair") {
    const size_t sp = value.find(' ');
    f->pairs.emplace_back(std::stoi(value.substr(0, sp)), std::stoi(value.substr(sp + 1)));
  } else if (key == "devices") {
    f->device_count = std::stoi(value);
  } else if (key == "no_device_reason") {
    f->no_device_reason = value;
  } else if (key == "has_mem") {
    f->has_mem = value == "1";
  } else if (key == "has_mem_in_use") {
    f->has_mem_in_use = value == "1";
  } else if (key == "has_batch") {
    f->has_batch = value == "1";
  } else if (key == "description") {
    f->description = value;
  } else if (key == "usable") {
    f->table_usable = value == "1";
  }
}

using Clock = std::chrono::steady_clock;

}  // namespace

std::vector<CheckResult> run_group(const RunContext &ctx, const std::string &path,
                                   const PluginFacts &facts, const Group &group,
                                   PluginFacts *probe_facts,
                                   const std::function<void(const CheckResult &)> &on_result) {
  const std::string plugin = plugin_name_from_path(path);
  const size_t n = group.checks.size();
  std::vector<CheckResult> results(n);
  std::vector<bool> todo(n, true);
  auto finish = [&](size_t i, Verdict v, std::string message, double seconds) {
    const CheckSpec &s = group.checks[i];
    results[i] = {plugin, s.name, s.rule.id, v, std::move(message), seconds};
    todo[i] = false;
    on_result(results[i]);
  };
  // Decided without a child: device checks on a plugin without a device.
  if (!group.probe)
    for (size_t i = 0; i < n; ++i)
      if (group.checks[i].needs_device && facts.device_count == 0)
        finish(i, Verdict::skip, facts.no_device_reason, 0);

  size_t start = 0;
  for (;;) {
    while (start < n && !todo[start]) ++start;
    if (start >= n) break;
    int fds[2];
    if (pipe(fds) != 0) {
      finish(start, Verdict::fail, "suite error: pipe() failed", 0);
      continue;
    }
    fflush(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      child_main(fds[1], ctx, path, facts, group, todo, start);
    }
    close(fds[1]);
    if (pid < 0) {
      close(fds[0]);
      finish(start, Verdict::fail, "suite error: fork() failed", 0);
      continue;
    }
    std::string buffer, crash_detail;
    bool progress = false, ended = false;
    long last_finished = -1;
    long current = -1;  // index of the check that began but has not reported
    bool timed_out = false;
    auto began = Clock::now();
    for (;;) {
      pollfd p{fds[0], POLLIN, 0};
      const auto waited = Clock::now() - began;
      const long left_ms =
          ctx.opts.check_timeout_s * 1000L -
          std::chrono::duration_cast<std::chrono::milliseconds>(waited).count();
      if (left_ms <= 0) {
        timed_out = true;
        break;
      }
      const int pr = poll(&p, 1, static_cast<int>(left_ms));
      if (pr < 0 && errno == EINTR) continue;
      if (pr == 0) {
        timed_out = true;
        break;
      }
      char chunk[4096];
      const ssize_t got = read(fds[0], chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;  // the child closed the pipe: finished or died
      buffer.append(chunk, static_cast<size_t>(got));
      for (const auto &f : take_lines(buffer)) {
        if (f[0] == "B" && f.size() >= 2) {
          current = std::stol(f[1]);
          began = Clock::now();
        } else if (f[0] == "R" && f.size() >= 4) {
          const double secs = std::chrono::duration<double>(Clock::now() - began).count();
          finish(static_cast<size_t>(std::stol(f[1])), parse_verdict(f[2]), f[3], secs);
          last_finished = std::stol(f[1]);
          current = -1;
          progress = true;
          began = Clock::now();
        } else if (f[0] == "F" && f.size() >= 3) {
          apply_fact(probe_facts, f[1], f[2]);
        } else if (f[0] == "E") {
          ended = true;
        } else if (f[0] == "C" && f.size() >= 2) {
          crash_detail = f[1];
        }
      }
    }
    if (timed_out) kill(pid, SIGKILL);
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::string how;
    if (timed_out)
      how = "timed out after " + std::to_string(ctx.opts.check_timeout_s) + " s";
    else if (WIFSIGNALED(status))
      how = "crashed: " + signal_label(WTERMSIG(status));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
      how = "crashed: the process exited with status " + std::to_string(WEXITSTATUS(status));
    else
      how = "crashed: the process ended without reporting";
    if (!crash_detail.empty()) how += " (" + crash_detail + ")";
    const double secs = std::chrono::duration<double>(Clock::now() - began).count();
    const bool clean = ended && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (current < 0 && progress && !clean && last_finished >= 0) {
      // Died between checks (a plugin thread, say): the group fails; the checks that did
      // not run get a new child.
      CheckResult r{plugin, group.checks[static_cast<size_t>(last_finished)].name + "+after",
                    group.checks[static_cast<size_t>(last_finished)].rule.id, Verdict::fail,
                    "the child process died after this check had passed: " + how, secs};
      results.push_back(r);
      on_result(r);
    }
    if (current < 0 && progress) continue;  // finished (or died between checks): carry on
    if (current >= 0) {
      finish(static_cast<size_t>(current), Verdict::fail, how, secs);
      start = static_cast<size_t>(current) + 1;
      continue;
    }
    // Died before its first check: loading or init itself crashes, every retry would too.
    bool first = true;
    for (size_t i = start; i < n; ++i) {
      if (!todo[i]) continue;
      if (first) finish(i, Verdict::fail, how + " while loading the plugin", secs);
      else finish(i, Verdict::skip, "not run: the plugin crashes while loading", 0);
      first = false;
    }
    break;
  }
  return results;
}

}  // namespace dq::conformance
