// The C++ layer (dq/dq.hpp): an exception thrown by a LoadOptions callback (output_fn, progress,
// buffers) leaves load(), load_file() and Loader::load as itself, not as a dq::Error, after the
// load's outputs are freed (the ASan build checks that nothing leaks); errors that are not
// exceptions stay dq::Error.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "loader_test_util.hpp"

namespace dq::test {
namespace {

// The caller's own type: derived from std::exception, so the C library's safety net (which
// turns any std::exception into DQ_ERR_INTERNAL) would have caught it had it unwound there.
class UserAbort : public std::runtime_error {
 public:
  UserAbort(const char *what, int where) : std::runtime_error(what), where_(where) {}
  int where() const { return where_; }

 private:
  int where_;
};

const char *kModel = "stories260K-q4_k_m.gguf";

// Expects `f` to throw UserAbort carrying `where`; anything else (dq::Error included) fails.
template <class F>
void expect_user_abort(F &&f, int where) {
  try {
    f();
    ADD_FAILURE() << "the callback's exception was lost";
  } catch (const UserAbort &e) {
    EXPECT_EQ(e.where(), where);
  } catch (const Error &e) {
    ADD_FAILURE() << "came back as dq::Error " << e.status() << ": " << e.what();
  }
}

// output_fn answers the loader before anything is read: the load stops at the tensor that threw.
TEST(CppCallbackErrors, OutputFnExceptionLeavesAsItselfAndStopsTheLoad) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model m(ctx, (dir / kModel).string());
  ASSERT_GT(m.tensor_count(), 3);
  int calls = 0;
  bool fail = true;
  LoadOptions o;
  o.output_fn([&](const dq_tensor_info &, int32_t proposed) {
    if (++calls == 3 && fail) throw UserAbort("third tensor", 3);
    return proposed;
  });
  expect_user_abort([&] { load(ctx, m, o); }, 3);
  EXPECT_EQ(calls, 3);
  // The same options, the callback no longer throwing: the captured exception was taken.
  fail = false;
  calls = 0;
  EXPECT_EQ(load(ctx, m, o).size(), m.tensor_count());
  EXPECT_EQ(calls, m.tensor_count());
}

// progress cannot stop a C load: it is not called again, and the finished load is freed
// (one device, a reused Loader, two devices).
TEST(CppCallbackErrors, ProgressExceptionLeavesAsItself) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model m(ctx, (dir / kModel).string());
  int calls = 0;
  LoadOptions o;
  o.progress([&](uint64_t done, uint64_t) {
    ++calls;
    if (done > 0) throw UserAbort("progress", 1);
  });
  expect_user_abort([&] { load(ctx, m, o); }, 1);
  EXPECT_EQ(calls, 2);  // the start (0) and the first movement, which threw
  calls = 0;
  expect_user_abort([&] { load_file(ctx, (dir / kModel).string(), o); }, 1);
  EXPECT_EQ(calls, 2);
  calls = 0;
  LoadOptions plain;
  const Loader loader(ctx, plain);
  expect_user_abort([&] { loader.load(m, o); }, 1);
  EXPECT_EQ(calls, 2);
  // Over two devices progress comes from their threads, one call at a time.
  calls = 0;
  o.devices({Location::host(), Location::host()});
  expect_user_abort([&] { load(ctx, m, o); }, 1);
  EXPECT_EQ(calls, 2);
}

// Any type is carried, not only std::exception.
TEST(CppCallbackErrors, NonStandardExceptionLeavesAsItself) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model m(ctx, (dir / kModel).string());
  LoadOptions o;
  o.progress([](uint64_t done, uint64_t) {
    if (done > 0) throw 42;
  });
  try {
    load(ctx, m, o);
    ADD_FAILURE() << "the callback's exception was lost";
  } catch (int v) {
    EXPECT_EQ(v, 42);
  }
}

// buffers: the caller's buffer given before the throw stays the caller's; the loader's
// outputs are freed (ASan), the callback is not called again.
TEST(CppCallbackErrors, BufferFnExceptionLeavesAsItself) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model m(ctx, (dir / kModel).string());
  std::vector<std::vector<unsigned char>> mine;
  int calls = 0;
  LoadOptions o;
  o.output(DQ_TYPE_F32).buffers([&](const dq_tensor_info &, int32_t, int64_t, int64_t,
                                    uint64_t bytes) -> void * {
    if (++calls == 2) throw UserAbort("second buffer", 2);
    mine.emplace_back(bytes);
    return mine.back().data();
  });
  expect_user_abort([&] { load(ctx, m, o); }, 2);
  EXPECT_EQ(calls, 2);
  ASSERT_EQ(mine.size(), 1u);
}

// Errors that are not exceptions are as before: an invalid type from output_fn is dq::Error.
TEST(CppCallbackErrors, ErrorsThatAreNotExceptionsStayDqErrors) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model m(ctx, (dir / kModel).string());
  LoadOptions o;
  o.output_fn([](const dq_tensor_info &, int32_t) { return int32_t{999}; });
  try {
    load(ctx, m, o);
    ADD_FAILURE() << "an invalid output type must throw";
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), DQ_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("999"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dq::test
