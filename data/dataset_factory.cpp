#include "data/dataset_factory.h"

#include "core/error.h"
#include "data/nyud.h"
#include "data/pascal.h"

namespace mtinet {

std::shared_ptr<Dataset> open_dataset(const std::string& layout, const std::string& root, const std::string& split,
                                      const std::vector<std::string>& tasks) {
  if (layout == "nyud") return std::make_shared<NyudDataset>(root, split, tasks);
  if (layout == "pascal") return std::make_shared<PascalDataset>(root, split, tasks);
  MTINET_FAIL("unknown dataset layout '", layout, "' (expected nyud or pascal)");
}

}  // namespace mtinet
