// process_* metrics in the standard Prometheus client form, read from /proc/self.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace podium::monitoring {

class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace podium::monitoring
