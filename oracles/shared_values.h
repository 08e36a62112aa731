// SharedValues<T>: an immutable std::vector<T> that copies share (a reference-counted pointer), for
// what every scheme's trace of a layer holds alike: its inputs, accumulators and channel terms.
// Nine schemes' traces of one layer then hold one copy, not nine. Reads look like a vector's, and
// it converts to `const std::vector<T>&` where one is expected.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace qdiff {

template <typename T>
class SharedValues {
 public:
  SharedValues() = default;
  SharedValues(std::vector<T> values)  // NOLINT(google-explicit-constructor): assigned like a vector
      : values_(std::make_shared<const std::vector<T>>(std::move(values))) {}

  const std::vector<T>& get() const { return values_ ? *values_ : Empty(); }
  operator const std::vector<T>&() const { return get(); }  // NOLINT(google-explicit-constructor)
  const T& operator[](size_t i) const { return (*values_)[i]; }
  size_t size() const { return get().size(); }
  bool empty() const { return get().empty(); }
  const T* data() const { return get().data(); }
  typename std::vector<T>::const_iterator begin() const { return get().begin(); }
  typename std::vector<T>::const_iterator end() const { return get().end(); }

 private:
  static const std::vector<T>& Empty() {
    static const std::vector<T> empty;
    return empty;
  }
  std::shared_ptr<const std::vector<T>> values_;
};

}  // namespace qdiff
