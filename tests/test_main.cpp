// The test runner: doctest's main, plus visible skips. A test that needs a CUDA GPU calls skip_without_gpu(); when
// there is none it prints "SKIPPED: <test name>: <why>", and if nothing failed the run exits with 77, which ctest
// (SKIP_RETURN_CODE 77, one ctest test per test case) reports as "Skipped" instead of silently "Passed".
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "core/device.h"
#include "core/omp_wait_policy.h"
#include "cuda_parity.h"

namespace {
constexpr int kSkipExitCode = 77;

std::string current_test;
bool any_skipped = false;

// A listener that only remembers which test case is running, so skip messages can name it.
struct CurrentTestListener : doctest::IReporter {
  explicit CurrentTestListener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData& tc) override { current_test = tc.m_name; }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("mtinet_current_test", 1, CurrentTestListener);
}  // namespace

bool mtinet::test::skip_without_gpu(const char* why) {
  if (mtinet::cuda_available()) return false;
  std::printf("SKIPPED: %s: %s\n", current_test.c_str(), why);
  std::fflush(stdout);
  any_skipped = true;
  return true;
}

int main(int argc, char** argv) {
  mtinet::reexec_with_passive_omp_wait(argv);
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  int result = context.run();
  if (context.shouldExit()) return result;  // --help, --list-test-cases, ...
  if (result == 0 && any_skipped) return kSkipExitCode;
  return result;
}
