#pragma once
// An owned anonymous memory mapping: unmapped exactly once, movable.

#include <sys/mman.h>

#include <cstddef>
#include <system_error>
#include <utility>

namespace procmon {

class Mapping {
 public:
  Mapping() = default;
  // MAP_NORESERVE: pages cost memory only once touched.
  explicit Mapping(std::size_t bytes) : size_(bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    data_ = static_cast<std::byte*>(p);
  }
  Mapping(Mapping&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }

  std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void reset() {
    if (data_) ::munmap(data_, size_);
    data_ = nullptr;
  }
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace procmon
