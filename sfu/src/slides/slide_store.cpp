#include "slides/slide_store.hpp"

#include <algorithm>

namespace podium::sfu::slides {

Result<std::shared_ptr<Slide>, ProtocolError> SlideStore::add(
    SlideHeader header, std::vector<std::shared_ptr<Slide>>& evicted) {
  if (header.size > limits_.max_slide_bytes) return fail(ProtocolError::slide_too_large);
  if (find(header.id)) return fail(ProtocolError::duplicate_id);
  // Evict least recently used slides until the new one fits; the current one stays.
  while (reserved_ + header.size > limits_.max_room_bytes) {
    auto victim = slides_.end();
    for (auto it = slides_.begin(); it != slides_.end(); ++it) {
      if (*it == current_ || !(*it)->complete()) continue;
      if (victim == slides_.end() || (*it)->last_used < (*victim)->last_used) victim = it;
    }
    if (victim == slides_.end()) return fail(ProtocolError::room_storage_full);
    evicted.push_back(*victim);
    remove(*victim);
  }
  auto slide = std::make_shared<Slide>();
  slide->header = std::move(header);
  slide->serial = next_serial_++;
  slide->last_used = ++use_clock_;
  reserved_ += slide->header.size;
  slides_.push_back(slide);
  return slide;
}

std::shared_ptr<Slide> SlideStore::find(std::string_view id) const {
  for (const auto& slide : slides_) {
    if (slide->header.id == id) return slide;
  }
  return nullptr;
}

void SlideStore::remove(const std::shared_ptr<Slide>& slide) {
  auto it = std::find(slides_.begin(), slides_.end(), slide);
  if (it == slides_.end()) return;
  reserved_ -= slide->header.size;
  slide->removed = true;
  if (current_ == slide) current_ = nullptr;
  slides_.erase(it);
}

std::uint64_t SlideStore::show(const std::shared_ptr<Slide>& slide) {
  slide->last_used = ++use_clock_;
  current_ = slide;
  return ++show_sequence_;
}

}  // namespace podium::sfu::slides
