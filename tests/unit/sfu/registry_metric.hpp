// Reading one series of a prometheus::Registry in unit tests.
#pragma once

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/registry.h>

namespace podium::sfu::test_support {

using Labels = std::vector<std::pair<std::string, std::string>>;

// The value of the first counter or gauge series of `name` carrying all of `labels`, or NaN
// when no series matches.
inline double metric(prometheus::Registry& registry, const std::string& name,
                     const Labels& labels = {}) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& series : family.metric) {
      bool match = true;
      for (const auto& [key, value] : labels) {
        bool found = false;
        for (const auto& label : series.label) found |= label.name == key && label.value == value;
        match &= found;
      }
      if (!match) continue;
      return family.type == prometheus::MetricType::Counter ? series.counter.value
                                                            : series.gauge.value;
    }
  }
  return std::nan("");
}

}  // namespace podium::sfu::test_support
