// FaultFilter: a BlockDevice that asks a FaultEngine about every request and
// applies the answer (delay, fail, zero/fill/flip of the bytes the engine
// names, torn write, disconnect) around the store below it. The engine
// decides; this layer only touches data.
#pragma once

#include <memory>

#include "faults/fault_engine.h"
#include "nbd-server/storage/block_device.h"

namespace fsfault::nbd {

class FaultFilter final : public BlockDevice {
 public:
  FaultFilter(std::shared_ptr<BlockDevice> inner, std::shared_ptr<faults::FaultEngine> engine)
      : inner_(std::move(inner)), engine_(std::move(engine)) {}

  std::uint64_t size() const override { return inner_->size(); }
  bool writable() const override { return inner_->writable(); }
  bool consistent_across_connections() const override {
    return inner_->consistent_across_connections();
  }
  bool fast_zero() const override { return inner_->fast_zero(); }
  bool may_sleep() const override { return engine_->may_delay() || inner_->may_sleep(); }
  void publish() override {
    engine_->flush_log();
    inner_->publish();
  }

  IoResult read(std::span<std::uint8_t> buf, std::uint64_t offset) override;
  // Passes the plan down when the engine leaves the data alone; a read whose
  // bytes a rule changes is copied, so the change applies to exactly them.
  IoResult read_plan(std::uint64_t offset, std::uint64_t length, ReadPlan& plan) override;
  IoResult write(std::span<const std::uint8_t> buf, std::uint64_t offset, bool fua) override;
  bool can_write_in_place(std::uint64_t offset, std::uint64_t length) const override {
    return inner_->can_write_in_place(offset, length);
  }
  // The engine decides before the payload is received: a write it leaves
  // alone lands in place, a failed one's payload is drained, a torn one is
  // received into a buffer and half written. nullopt when the store cannot
  // take it in place (nothing evaluated yet: write() will).
  std::optional<IoResult> write_in_place(PayloadSource& payload, std::uint64_t offset,
                                         std::uint64_t length, bool fua) override;
  IoResult flush() override;
  IoResult trim(std::uint64_t offset, std::uint64_t length, bool fua) override;
  IoResult write_zeroes(std::uint64_t offset, std::uint64_t length, bool may_trim,
                        bool fua) override;
  IoResult cache(std::uint64_t offset, std::uint64_t length) override;
  IoResult block_status(std::uint64_t offset, std::uint64_t length,
                        std::vector<ExtentInfo>& out) override;

 private:
  // Evaluates the request; returns true with `early` set when the request
  // ends here (failed, dropped), after any delay.
  bool gate(faults::Op op, std::uint64_t offset, std::uint64_t length, faults::Decision& d,
            IoResult& early);
  // The read once the gate let it through: from the store, then changed.
  IoResult read_changed(const faults::Decision& d, std::span<std::uint8_t> buf, std::uint64_t offset);
  // The write once the gate let it through: whole, or its first half if torn.
  IoResult write_decided(const faults::Decision& d, std::span<const std::uint8_t> buf,
                         std::uint64_t offset, bool fua);
  // Applies a read's data changes to buf (only the persistent ones when asked).
  static void apply(const faults::Decision& d, std::span<std::uint8_t> buf, bool persistent_only);
  // Writes the persistent changes of a read back to the store.
  IoResult persist(const faults::Decision& d, std::span<const std::uint8_t> stored, std::uint64_t offset);

  std::shared_ptr<BlockDevice> inner_;
  std::shared_ptr<faults::FaultEngine> engine_;
};

}  // namespace fsfault::nbd
