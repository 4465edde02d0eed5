// One Prometheus registry for every component, with process metrics and podium_build_info.
// Components create their metric families on registry() at start-up and update them live.
#pragma once

#include <memory>
#include <string>

#include <prometheus/registry.h>

namespace podium::monitoring {

class Metrics {
 public:
  explicit Metrics(const std::string& version);
  prometheus::Registry& registry() { return *registry_; }
  // The Prometheus text exposition of every metric (process metrics included).
  std::string serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_;
};

}  // namespace podium::monitoring
