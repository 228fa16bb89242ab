// How a use case reaches its data. Each use case defines, beside itself, the
// narrow interfaces it reads and writes through (agencies/agency_store.h,
// filings/filing_store.h, ...: one per table group, and one per use that
// sums the groups it needs); `Transactions<Reader, Writer>` is its handle on
// a store that runs a callback in a read snapshot (handing it a Reader&) or
// in a write transaction (a Writer&). Any store whose transactions derive
// from those interfaces converts to the handle (storage's Store does, for
// every use case), so no use case includes storage/.
//
// Thread-safety: a handle is a pointer to its store, copyable, and as
// thread-safe as the store; the store must outlive it. A transaction object
// is used only inside the callback that received it.
#ifndef PSTRACK_SERVICES_COMMON_TRANSACTIONS_H_
#define PSTRACK_SERVICES_COMMON_TRANSACTIONS_H_

#include <string>
#include <type_traits>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace pstrack {

// What every write transaction offers, whatever its tables.
class TransactionControl {
 public:
  virtual ~TransactionControl() = default;
  // Runs `fn` so that if it fails, everything it wrote is undone while the
  // rest of the transaction stays (a savepoint). Lets a batch keep its good
  // items and drop its bad ones without half-written items.
  virtual absl::Status Atomically(absl::FunctionRef<absl::Status()> fn) = 0;
  // Serialises writers of the same keys (dossier codes, report slots)
  // across server processes until the transaction ends: PostgreSQL
  // transaction-scoped advisory locks, taken in a fixed order so two
  // replicas cannot deadlock. SQLite has a single writer already: a no-op
  // there.
  virtual absl::Status LockKeys(const std::vector<std::string>& keys) = 0;
};

template <typename Reader, typename Writer>
class Transactions {
 public:
  // A handle on `store`, whose Read hands its callback a transaction that
  // is a Reader and whose Write hands one that is a Writer.
  template <typename Store, typename = std::enable_if_t<!std::is_base_of_v<Transactions, Store>>>
  Transactions(Store& store)  // NOLINT(google-explicit-constructor): a store is where a handle comes from
      : store_(&store), ops_(&kOps<Store>) {}

  // Runs `fn` in a read-only snapshot.
  absl::Status Read(absl::FunctionRef<absl::Status(Reader&)> fn) const { return ops_->read(store_, fn, false); }
  // The same for a snapshot held for minutes (the aggregate check): writers
  // go on meanwhile (storage/store.h says what it costs).
  absl::Status ReadLongSnapshot(absl::FunctionRef<absl::Status(Reader&)> fn) const {
    return ops_->read(store_, fn, true);
  }
  // Whether a long snapshot may go on (RESOURCE_EXHAUSTED: give up). Cheap.
  absl::Status LongSnapshotGrowth() const { return ops_->growth(store_); }
  // Runs `fn` in a write transaction: committed if `fn` returns OK, rolled
  // back otherwise. Returns after the commit is durable.
  absl::Status Write(absl::FunctionRef<absl::Status(Writer&)> fn) const { return ops_->write(store_, fn, [] {}); }
  // The same, and calls `released` once the write lock is free, before the
  // wait for the commit to be durable (a group commit hands the lock on).
  absl::Status Write(absl::FunctionRef<absl::Status(Writer&)> fn, absl::FunctionRef<void()> released) const {
    return ops_->write(store_, fn, released);
  }
  // A write transaction beside the others (Store::WriteBeside).
  absl::Status WriteBeside(absl::FunctionRef<absl::Status(Writer&)> fn) const { return ops_->beside(store_, fn); }

 private:
  struct Ops {
    absl::Status (*read)(void* store, absl::FunctionRef<absl::Status(Reader&)> fn, bool long_snapshot);
    absl::Status (*write)(void* store, absl::FunctionRef<absl::Status(Writer&)> fn,
                          absl::FunctionRef<void()> released);
    absl::Status (*growth)(const void* store);
    absl::Status (*beside)(void* store, absl::FunctionRef<absl::Status(Writer&)> fn);
  };
  template <typename Store>
  static absl::Status ReadOn(void* store, absl::FunctionRef<absl::Status(Reader&)> fn, bool long_snapshot) {
    Store& s = *static_cast<Store*>(store);
    auto call = [&](auto& tx) -> absl::Status { return fn(tx); };
    return long_snapshot ? s.ReadLongSnapshot(call) : s.Read(call);
  }
  template <typename Store>
  static absl::Status WriteOn(void* store, absl::FunctionRef<absl::Status(Writer&)> fn,
                              absl::FunctionRef<void()> released) {
    auto call = [&](auto& tx) -> absl::Status { return fn(tx); };
    return static_cast<Store*>(store)->Write(call, released);
  }
  template <typename Store>
  static absl::Status WriteBesideOn(void* store, absl::FunctionRef<absl::Status(Writer&)> fn) {
    auto call = [&](auto& tx) -> absl::Status { return fn(tx); };
    return static_cast<Store*>(store)->WriteBeside(call);
  }
  template <typename Store>
  static absl::Status GrowthOn(const void* store) {
    return static_cast<const Store*>(store)->LongSnapshotGrowth();
  }
  template <typename Store>
  static constexpr Ops kOps = {&ReadOn<Store>, &WriteOn<Store>, &GrowthOn<Store>, &WriteBesideOn<Store>};

  void* store_;
  const Ops* ops_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_TRANSACTIONS_H_
