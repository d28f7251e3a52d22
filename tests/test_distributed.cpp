// The distributed layer in one process (train/distributed.h): a world of one whose collectives change nothing, and
// the refusal of a multi-rank launch by a build without MPI. The multi-rank behaviour is tested under mpirun by
// tests/mpi/*.sh.
#include <cstdlib>

#include "test_util.h"
#include "train/config.h"
#include "train/distributed.h"

using namespace mtinet;

namespace {
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}
}  // namespace

TEST_CASE("distributed: a plain start is a world of one whose collectives change nothing") {
  if (launched_by_mpi()) return;  // this suite is not meant to run under mpirun
  dist::init();
  CHECK(dist::world().rank == 0);
  CHECK(dist::size() == 1);
  CHECK(dist::is_root());
  CHECK(!dist::world().mpi);
  Tensor t = Tensor::from_vector<float>({3}, {1.f, 2.f, 3.f});
  dist::allreduce_sum(t);
  dist::broadcast(t);
  CHECK(t.to_double_vector() == std::vector<double>{1, 2, 3});
  std::vector<double> v = {4};
  dist::allreduce_sum(v);
  CHECK(v[0] == 4);
  dist::finalize();
}

#ifndef MTINET_HAVE_MPI
TEST_CASE("distributed: a build without MPI refuses a multi-rank launch") {
  if (launched_by_mpi()) return;
  setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
  CHECK_THROWS_WITH_AS(dist::init(), doctest::Contains("built without MPI"), Error);
  unsetenv("OMPI_COMM_WORLD_SIZE");
  CHECK(dist::size() == 1);
}
#endif

TEST_CASE("config: grad_accumulation is read and must be >= 1") {
  nlohmann::json j = {{"data", {{"root", "x"}}}, {"grad_accumulation", 4}};
  CHECK(parse_train_config(j).grad_accumulation == 4);
  j["grad_accumulation"] = 0;
  CHECK_THROWS_WITH_AS(parse_train_config(j), doctest::Contains("grad_accumulation"), Error);
}

TEST_CASE("config: distributed.overlap and bucket_mib are read and checked") {
  nlohmann::json j = {{"data", {{"root", "x"}}}};
  TrainConfig defaults = parse_train_config(j);
  CHECK(defaults.distributed.overlap);
  CHECK(defaults.distributed.bucket_bytes() == int64_t(25) << 20);
  j["distributed"] = {{"overlap", false}, {"bucket_mib", 0.5}};
  TrainConfig c = parse_train_config(j);
  CHECK_FALSE(c.distributed.overlap);
  CHECK(c.distributed.bucket_bytes() == int64_t(1) << 19);
  j["distributed"] = {{"bucket_mib", 0}};
  CHECK_THROWS_WITH_AS(parse_train_config(j), doctest::Contains("bucket_mib"), Error);
  j["distributed"] = {{"overlap", "yes"}};
  CHECK_THROWS_WITH_AS(parse_train_config(j), doctest::Contains("overlap"), Error);
  j["distributed"] = {{"bucket", 4}};  // a misspelt key is refused, not ignored
  CHECK_THROWS_WITH_AS(parse_train_config(j), doctest::Contains("bucket"), Error);
}
