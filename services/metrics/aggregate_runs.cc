#include "services/metrics/aggregate_runs.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <queue>
#include <tuple>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "services/common/checked_math.h"

namespace pstrack {
namespace {

// Each open run holds a read buffer of this size; more runs than this are
// merged into fewer first.
constexpr size_t kReadBuffer = 256 << 10;
constexpr size_t kMaxOpenRuns = 48;
static_assert(kCounterCount <= 64, "the run format keeps the non-zero counters in a 64-bit mask");

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutString(std::string& out, const std::string& s) {
  PutVarint(out, s.size());
  out.append(s);
}

absl::Status FileError(const std::string& what, const std::string& path) {
  const int e = errno;
  if (e == ENOSPC) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the aggregate check's work space is full (", path, "): free space there or check a "
                     "smaller scope"));
  }
  return absl::InternalError(absl::StrCat("aggregate check: cannot ", what, " ", path, ": ", std::strerror(e)));
}

}  // namespace

bool AggregateKeyOrder::operator()(const AggregateKey& a, const AggregateKey& b) const {
  if (int c = a.node_code.compare(b.node_code); c != 0) return c < 0;
  if (a.basis != b.basis) return a.basis < b.basis;
  if (a.dim != b.dim) return a.dim < b.dim;
  if (stored == StoredAggregateOrder::kDayThenValue) {
    return std::tie(a.day, a.dim_value) < std::tie(b.day, b.dim_value);
  }
  return std::tie(a.dim_value, a.day) < std::tie(b.dim_value, b.day);
}

// A sorted run on disk, written once and read once.
class AggregateRuns::Run {
 public:
  explicit Run(std::string path) : path_(std::move(path)) {}
  ~Run() {
    if (file_ != nullptr) std::fclose(file_);
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }

  absl::Status OpenForWrite() {
    file_ = std::fopen(path_.c_str(), "wbx");
    if (file_ == nullptr) return FileError("create", path_);
    return absl::OkStatus();
  }

  absl::Status Write(const AggregateKey& key, const Counts& counts) {
    return Write(static_cast<int>(key.basis), static_cast<int>(key.dim), key.node_code, key.dim_value, key.day,
                 counts);
  }
  absl::Status Write(int basis, int dim, const std::string& node, const std::string& value, const std::string& day,
                     const Counts& counts) {
    record_.clear();
    record_.push_back(static_cast<char>(basis));
    record_.push_back(static_cast<char>(dim));
    PutString(record_, node);
    PutString(record_, value);
    PutString(record_, day);
    uint64_t mask = 0;
    for (int i = 0; i < kCounterCount; ++i) mask |= uint64_t{counts[i] != 0} << i;
    PutVarint(record_, mask);
    for (int i = 0; i < kCounterCount; ++i) {
      if (counts[i] == 0) continue;
      const uint64_t v = static_cast<uint64_t>(counts[i]);
      PutVarint(record_, (v << 1) ^ static_cast<uint64_t>(counts[i] >> 63));  // zigzag
    }
    if (std::fwrite(record_.data(), 1, record_.size(), file_) != record_.size()) return FileError("write", path_);
    bytes_ += static_cast<int64_t>(record_.size());
    return absl::OkStatus();
  }

  absl::Status FinishWrite() {
    const int failed = std::fflush(file_) != 0 || std::ferror(file_);
    std::fclose(file_);
    file_ = nullptr;
    if (failed) return FileError("write", path_);
    return absl::OkStatus();
  }

  absl::Status OpenForRead() {
    file_ = std::fopen(path_.c_str(), "rb");
    if (file_ == nullptr) return FileError("open", path_);
    buffer_.resize(kReadBuffer);
    return absl::OkStatus();
  }

  // The next row; false at the end.
  absl::StatusOr<bool> Read(AggregateRow* row) {
    int first = Byte();
    if (first < 0) return false;
    row->key.basis = static_cast<Basis>(first);
    row->key.dim = static_cast<AggregateDim>(Byte());
    if (!String(&row->key.node_code) || !String(&row->key.dim_value) || !String(&row->key.day)) return Corrupt();
    uint64_t mask;
    if (!Varint(&mask)) return Corrupt();
    for (int i = 0; i < kCounterCount; ++i) {
      uint64_t v = 0;
      if ((mask >> i & 1) && !Varint(&v)) return Corrupt();
      row->counts[i] = static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
    }
    return true;
  }

  int64_t bytes() const { return bytes_; }

 private:
  absl::Status Corrupt() { return absl::DataLossError(absl::StrCat("aggregate check: ", path_, " is truncated")); }

  int Byte() {
    if (at_ == end_) {
      end_ = std::fread(buffer_.data(), 1, buffer_.size(), file_);
      at_ = 0;
      if (end_ == 0) return -1;
    }
    return static_cast<unsigned char>(buffer_[at_++]);
  }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const int b = Byte();
      if (b < 0) return false;
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool String(std::string* s) {
    uint64_t size;
    if (!Varint(&size) || size > (1 << 20)) return false;
    s->resize(size);
    for (uint64_t i = 0; i < size; ++i) {
      const int b = Byte();
      if (b < 0) return false;
      (*s)[i] = static_cast<char>(b);
    }
    return true;
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  std::string record_;
  std::vector<char> buffer_;
  size_t at_ = 0, end_ = 0;
  int64_t bytes_ = 0;
};

AggregateRuns::AggregateRuns(AggregateKeyOrder order, size_t memory_budget, std::string spill_dir)
    : order_(order), memory_budget_(memory_budget), spill_dir_(std::move(spill_dir)) {
  // A row costs its counts, its key and its index slot (at the table's
  // lowest load after growth: twice the slot).
  constexpr size_t kRowBytes =
      sizeof(NarrowCounts) + sizeof(PackedKey) + 2 * (sizeof(PackedKey) + sizeof(uint32_t) + 1);
  capacity_ = std::max<size_t>(1, memory_budget_ / kRowBytes);
}

AggregateRuns::~AggregateRuns() = default;

uint32_t AggregateRuns::Intern(const std::string& s) {
  auto [it, inserted] = ids_.try_emplace(s, static_cast<uint32_t>(strings_.size()));
  if (inserted) strings_.push_back(s);
  return it->second;
}

AggregateKey AggregateRuns::Unpack(const PackedKey& k) const {
  return AggregateKey{strings_[k.node], static_cast<Basis>(k.basis), static_cast<AggregateDim>(k.dim),
                      strings_[k.value], strings_[k.day]};
}

absl::Status AggregateRuns::Add(const AggregateKey& key, const Counts& counts) {
  if (merging_) return absl::FailedPreconditionError("AggregateRuns::Add after Next");
  if (keys_.empty() && keys_.capacity() < capacity_) {
    keys_.reserve(capacity_);
    rows_.reserve(capacity_);
    index_.reserve(capacity_);
  }
  const PackedKey packed{Intern(key.node_code), Intern(key.dim_value), Intern(key.day),
                         static_cast<uint8_t>(key.basis), static_cast<uint8_t>(key.dim)};
  auto [it, inserted] = index_.try_emplace(packed, static_cast<uint32_t>(keys_.size()));
  if (inserted) {
    keys_.push_back(packed);
    rows_.push_back({});
    AddToRow(it->second, counts);
    peak_buffered_bytes_ =
        std::max(peak_buffered_bytes_, keys_.size() * (sizeof(NarrowCounts) + 3 * sizeof(PackedKey)));
    if (keys_.size() >= capacity_) return Spill();
    return absl::OkStatus();
  }
  AddToRow(it->second, counts);
  return absl::OkStatus();
}

void AggregateRuns::AddToRow(uint32_t position, const Counts& counts) {
  if (!wide_.empty()) {
    if (auto it = wide_.find(position); it != wide_.end()) {
      for (int i = 0; i < kCounterCount; ++i) it->second[i] = SaturatingAdd(it->second[i], counts[i]);
      return;
    }
  }
  NarrowCounts& row = rows_[position];
  Counts sum;
  bool fits = true;
  for (int i = 0; i < kCounterCount; ++i) {
    sum[i] = SaturatingAdd(int64_t{row[i]}, counts[i]);
    fits &= sum[i] >= std::numeric_limits<int32_t>::min() && sum[i] <= std::numeric_limits<int32_t>::max();
  }
  if (!fits) {
    row = {};
    wide_.emplace(position, sum);
    return;
  }
  for (int i = 0; i < kCounterCount; ++i) row[i] = static_cast<int32_t>(sum[i]);
}

Counts AggregateRuns::RowCounts(uint32_t position) const {
  if (!wide_.empty()) {
    if (auto it = wide_.find(position); it != wide_.end()) return it->second;
  }
  Counts out;
  for (int i = 0; i < kCounterCount; ++i) out[i] = rows_[position][i];
  return out;
}

absl::Status AggregateRuns::Add(AggregateDeltas&& rows) {
  while (!rows.empty()) {
    auto node = rows.extract(rows.begin());
    absl::Status added = Add(node.key(), node.mapped());
    if (!added.ok()) return added;
  }
  return absl::OkStatus();
}

std::vector<uint32_t> AggregateRuns::SortedBuffer() const {
  // Each string's rank in byte order, then the keys as two integers each.
  std::vector<uint32_t> by_text(strings_.size());
  for (uint32_t i = 0; i < by_text.size(); ++i) by_text[i] = i;
  std::sort(by_text.begin(), by_text.end(), [&](uint32_t a, uint32_t b) { return strings_[a] < strings_[b]; });
  std::vector<uint64_t> rank(strings_.size());
  for (uint32_t r = 0; r < by_text.size(); ++r) rank[by_text[r]] = r;
  struct Sortable {
    uint64_t high, low;
    uint32_t position;
  };
  std::vector<Sortable> sortable;
  sortable.reserve(keys_.size());
  const bool day_first = order_.stored == StoredAggregateOrder::kDayThenValue;
  for (uint32_t i = 0; i < keys_.size(); ++i) {
    const PackedKey& k = keys_[i];
    const uint64_t high = rank[k.node] << 32 | uint64_t{k.basis} << 8 | k.dim;
    const uint64_t low = day_first ? rank[k.day] << 32 | rank[k.value] : rank[k.value] << 32 | rank[k.day];
    sortable.push_back({high, low, i});
  }
  std::sort(sortable.begin(), sortable.end(), [](const Sortable& a, const Sortable& b) {
    return a.high != b.high ? a.high < b.high : a.low < b.low;
  });
  std::vector<uint32_t> out;
  out.reserve(sortable.size());
  for (const Sortable& s : sortable) out.push_back(s.position);
  return out;
}

absl::Status AggregateRuns::Spill() {
  auto run = std::make_unique<Run>(absl::StrCat(spill_dir_, "/pstrack-aggregate-run-", ::getpid(), "-",
                                                reinterpret_cast<uintptr_t>(this), "-", next_file_++));
  absl::Status status = run->OpenForWrite();
  for (uint32_t position : SortedBuffer()) {
    if (!status.ok()) break;
    const PackedKey& k = keys_[position];
    status = run->Write(k.basis, k.dim, strings_[k.node], strings_[k.value], strings_[k.day], RowCounts(position));
  }
  if (status.ok()) status = run->FinishWrite();
  if (!status.ok()) return status;
  bytes_written_ += run->bytes();
  ++runs_written_;
  runs_.push_back(std::move(run));
  keys_.clear();
  rows_.clear();
  wide_.clear();
  index_.clear();
  index_.reserve(capacity_);  // clear() gives a large table's memory back
  if (runs_.size() > kMaxOpenRuns) return ReduceRuns();
  return absl::OkStatus();
}

absl::Status AggregateRuns::ReduceRuns() {
  // Merges every run so far into one (the buffer is empty here).
  AggregateRuns merged(order_, memory_budget_, spill_dir_);
  merged.runs_ = std::move(runs_);
  runs_.clear();
  auto out = std::make_unique<Run>(absl::StrCat(spill_dir_, "/pstrack-aggregate-run-", ::getpid(), "-",
                                                reinterpret_cast<uintptr_t>(this), "-", next_file_++));
  absl::Status status = out->OpenForWrite();
  AggregateRow row;
  while (status.ok()) {
    absl::StatusOr<bool> more = merged.Next(&row);
    if (!more.ok()) status = more.status();
    if (!status.ok() || !*more) break;
    status = out->Write(row.key, row.counts);
  }
  if (status.ok()) status = out->FinishWrite();
  if (!status.ok()) return status;
  bytes_written_ += out->bytes();
  ++runs_written_;
  runs_.push_back(std::move(out));
  return absl::OkStatus();
}

absl::Status AggregateRuns::StartMerge() {
  merging_ = true;
  heads_.resize(runs_.size());
  heap_.clear();
  for (size_t i = 0; i < runs_.size(); ++i) {
    absl::Status opened = runs_[i]->OpenForRead();
    if (!opened.ok()) return opened;
    absl::StatusOr<bool> read = runs_[i]->Read(&heads_[i]);
    if (!read.ok()) return read.status();
    if (*read) heap_.push_back(i);
  }
  std::make_heap(heap_.begin(), heap_.end(), [&](size_t a, size_t b) { return order_(heads_[b].key, heads_[a].key); });
  buffer_sorted_ = SortedBuffer();
  buffer_at_ = 0;
  if (!buffer_sorted_.empty()) buffer_key_ = Unpack(keys_[buffer_sorted_[0]]);
  return absl::OkStatus();
}

absl::StatusOr<bool> AggregateRuns::NextMerged(AggregateRow* row) {
  // The smallest key: the top of the runs' heap, or the buffer's.
  const auto later = [&](size_t a, size_t b) { return order_(heads_[b].key, heads_[a].key); };
  const bool buffered = buffer_at_ < buffer_sorted_.size();
  const AggregateKey* smallest = heap_.empty() ? nullptr : &heads_[heap_.front()].key;
  if (buffered && (smallest == nullptr || order_(buffer_key_, *smallest))) smallest = &buffer_key_;
  if (smallest == nullptr) return false;
  AggregateKey key = *smallest;
  Counts sum{};
  auto take = [&](const Counts& c) {
    for (int i = 0; i < kCounterCount; ++i) sum[i] = SaturatingAdd(sum[i], c[i]);
  };
  if (buffered && buffer_key_ == key) {
    take(RowCounts(buffer_sorted_[buffer_at_]));
    if (++buffer_at_ < buffer_sorted_.size()) buffer_key_ = Unpack(keys_[buffer_sorted_[buffer_at_]]);
  }
  // Each run holds a key at most once.
  while (!heap_.empty() && heads_[heap_.front()].key == key) {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    const size_t i = heap_.back();
    heap_.pop_back();
    take(heads_[i].counts);
    absl::StatusOr<bool> read = runs_[i]->Read(&heads_[i]);
    if (!read.ok()) return read.status();
    if (*read) {
      heap_.push_back(i);
      std::push_heap(heap_.begin(), heap_.end(), later);
    }
  }
  row->key = std::move(key);
  row->counts = sum;
  row->changes = 0;
  return true;
}

absl::StatusOr<bool> AggregateRuns::Next(AggregateRow* row) {
  if (!merging_) {
    absl::Status started = StartMerge();
    if (!started.ok()) return started;
  }
  while (true) {
    absl::StatusOr<bool> more = NextMerged(row);
    if (!more.ok() || !*more) return more;
    for (int64_t c : row->counts) {
      if (c != 0) return true;
    }
  }
}

}  // namespace pstrack
