// Counts heap allocations (operator new) made by any thread while a CountAllocations is alive.
// Linked into the test binaries that prove code paths allocation-free.
#pragma once

#include <cstdint>

namespace podium::testing {

class CountAllocations {
 public:
  CountAllocations();
  ~CountAllocations();
  CountAllocations(const CountAllocations&) = delete;
  CountAllocations& operator=(const CountAllocations&) = delete;
  std::uint64_t count() const;
};

}  // namespace podium::testing
