#include "fp_environment.hpp"

#include <cstdio>

namespace dq::conformance {

namespace {

uint64_t g_initial = 0;

std::string hex(uint64_t v) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(v));
  return text;
}

}  // namespace

#if defined(__x86_64__) || defined(__i386__)
constexpr uint64_t kControlBits = 0xffc0;  // bits 0-5 are sticky exception flags
constexpr const char *kRegister = "MXCSR";
constexpr uint64_t kFlushToZero = 1u << 15, kDenormalsAreZero = 1u << 6;

uint64_t read_fp_control() {
  uint32_t csr;
  __asm__ volatile("stmxcsr %0" : "=m"(csr));
  return csr & kControlBits;
}

void write_fp_control(uint64_t value) {
  uint32_t csr;
  __asm__ volatile("stmxcsr %0" : "=m"(csr));
  csr = static_cast<uint32_t>((csr & ~kControlBits) | (value & kControlBits));
  __asm__ volatile("ldmxcsr %0" : : "m"(csr));
}
#elif defined(__aarch64__)
constexpr const char *kRegister = "FPCR";
constexpr uint64_t kFlushToZero = uint64_t{1} << 24, kDenormalsAreZero = 0;  // FZ

uint64_t read_fp_control() {
  uint64_t fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  return fpcr;
}

void write_fp_control(uint64_t value) {
  __asm__ volatile("msr fpcr, %0" : : "r"(value));
}
#else
constexpr const char *kRegister = "FP control";
constexpr uint64_t kFlushToZero = 0, kDenormalsAreZero = 0;
uint64_t read_fp_control() {
  return 0;
}
void write_fp_control(uint64_t) {}
#endif

std::string describe_fp_change(uint64_t before, uint64_t after) {
  std::string text = std::string(kRegister) + " " + hex(before) + " -> " + hex(after);
  std::string what;
  auto note = [&](uint64_t bit, const char *name) {
    if (bit && (before & bit) != (after & bit))
      what += std::string(what.empty() ? "" : ", ") + name + ((after & bit) ? " on" : " off");
  };
  note(kFlushToZero, "flush-to-zero");
  note(kDenormalsAreZero, "denormals-are-zero");
  return what.empty() ? text : text + " (" + what + ")";
}

void remember_initial_fp_control() {
  g_initial = read_fp_control();
}
uint64_t initial_fp_control() {
  return g_initial;
}

}  // namespace dq::conformance
