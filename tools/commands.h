// The mtinet subcommands; each takes the arguments after its name and returns the process exit code.
#pragma once
#include <string>
#include <vector>

namespace mtinet {

int cmd_info(const std::vector<std::string>& args);
int cmd_train(const std::vector<std::string>& args);  // tools/cmd_train.cpp
int cmd_synth(const std::vector<std::string>& args);  // tools/cmd_synth.cpp
int cmd_bench(const std::vector<std::string>& args);  // tools/cmd_bench.cpp
int cmd_bench_train(const std::vector<std::string>& args);  // tools/cmd_bench_train.cpp (bench train)
int cmd_bench_loader(const std::vector<std::string>& args);  // tools/cmd_bench_loader.cpp (bench loader)
int cmd_bench_epoch(const std::vector<std::string>& args);  // tools/cmd_bench_epoch.cpp (bench epoch)
int cmd_summary(const std::vector<std::string>& args);  // tools/cmd_summary.cpp
int cmd_predict(const std::vector<std::string>& args);  // tools/cmd_predict.cpp
int cmd_eval(const std::vector<std::string>& args);     // tools/cmd_eval.cpp
int cmd_convert(const std::vector<std::string>& args);  // tools/cmd_convert.cpp
int cmd_inspect(const std::vector<std::string>& args);  // tools/cmd_inspect.cpp

}  // namespace mtinet
