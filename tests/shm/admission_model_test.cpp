// Multi-threaded model test of the admission protocol (DESIGN.md §2).
//
// io threads admit at random and hand every place they took to a single "writer", which decides
// commit or undo (a duplicate or failed commit), cancels parties, promotes in strict FIFO order
// and changes capacity, keeping a simple sequential model of the committed state. Checked:
// - at every successful CAS (the admission's linearization point): a confirm saw nobody waiting
//   and room for the whole party; a join saw that it could not confirm;
// - the committed model never exceeds capacity (no overbooking);
// - when everything is drained, the admission word equals the model exactly.
// Negative control: RSVPD_FAULT=admit_ignore_waiting (fault-injection build) must make it fail.
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "shm/admission.h"

namespace rsvpd::shm {
namespace {

constexpr int64_t kNow = 1'000;
constexpr uint32_t kGuestsMax = 3;  // Parties of 1..4 seats.
constexpr uint32_t kCapacityMin = kGuestsMax + 1;

struct Held {
  AdmitOutcome outcome;
  uint32_t party_size;
};

// The writer's committed view: what LMDB would hold.
struct Model {
  uint32_t capacity = 0;
  std::vector<uint32_t> confirmed;  // Party sizes.
  std::deque<uint32_t> waiting;     // Party sizes in ticket order.
  uint64_t confirmed_seats() const {
    uint64_t seats = 0;
    for (const uint32_t party : confirmed) seats += party;
    return seats;
  }
};

struct Violations {
  std::atomic<int> confirm_while_waiting{0};
  std::atomic<int> confirm_without_room{0};
  std::atomic<int> join_while_room{0};
  std::atomic<int> overbooked{0};
};

class Writer {
 public:
  Writer(ActivitySlot& slot, Model& model, Violations& violations, uint32_t seed)
      : slot_(slot), model_(model), violations_(violations), random_(seed) {}

  void handle(const Held& held) {
    if (chance(15)) {  // Rejected after the CAS (duplicate, failed commit): undo (rule 5).
      undo_admission(slot_, held.outcome, held.party_size);
      promote_after_commit(0);
    } else if (held.outcome == AdmitOutcome::kConfirmed) {
      model_.confirmed.push_back(held.party_size);
    } else {
      model_.waiting.push_back(held.party_size);
    }
    if (chance(20)) cancel_confirmed();
    if (chance(5)) cancel_waiting();
    if (chance(3)) change_capacity();
    check_no_overbooking();
  }

  void drain_promotions() { promote_after_commit(0); }

 private:
  bool chance(int percent) { return std::uniform_int_distribution<int>(0, 99)(random_) < percent; }

  void cancel_confirmed() {
    if (model_.confirmed.empty()) return;
    const size_t index = random_() % model_.confirmed.size();
    const uint32_t freed = model_.confirmed[index];
    model_.confirmed.erase(model_.confirmed.begin() + static_cast<long>(index));
    promote_after_commit(freed);
  }

  void cancel_waiting() {
    if (model_.waiting.empty()) return;
    const size_t index = random_() % model_.waiting.size();
    model_.waiting.erase(model_.waiting.begin() + static_cast<long>(index));
    release_committed(slot_, 0, 1);
    promote_after_commit(0);
  }

  // The writer's promotion pass: strict FIFO, freed seats handed to the head first, the rest
  // taken in the word before the "commit", releases applied after it (rule 1).
  void promote_after_commit(uint32_t freed_seats) {
    uint32_t promoted = 0;
    while (!model_.waiting.empty()) {
      const uint32_t head = model_.waiting.front();
      if (head <= freed_seats) {
        freed_seats -= head;
      } else if (take_seats_for_promotion(slot_, head - freed_seats, model_.capacity)) {
        freed_seats = 0;
      } else {
        break;  // The head does not fit: nobody behind it may pass.
      }
      model_.waiting.pop_front();
      model_.confirmed.push_back(head);
      ++promoted;
    }
    release_committed(slot_, freed_seats, promoted);
  }

  void change_capacity() {
    ActivitySettings settings;
    uint32_t epoch = 0;
    ASSERT_TRUE(read_settings(slot_, settings, epoch));
    settings.capacity = std::uniform_int_distribution<uint32_t>(kCapacityMin, 40)(random_);
    if (change_settings(slot_, settings) == SettingsChangeOutcome::kApplied) {
      model_.capacity = settings.capacity;
      promote_after_commit(0);
    }
  }

  void check_no_overbooking() {
    if (model_.confirmed_seats() > model_.capacity) violations_.overbooked.fetch_add(1);
  }

  ActivitySlot& slot_;
  Model& model_;
  Violations& violations_;
  std::mt19937 random_;
};

// Checks one admission at its linearization point.
void check_linearization_point(const AdmitResult& result, uint32_t party_size,
                               Violations& violations) {
  const AdmissionWord seen = result.observed;
  const bool fits = uint64_t{seen.taken} + party_size <= result.settings.capacity;
  if (result.outcome == AdmitOutcome::kConfirmed) {
    if (seen.waiting != 0) violations.confirm_while_waiting.fetch_add(1);
    if (!fits) violations.confirm_without_room.fetch_add(1);
  } else if (result.outcome == AdmitOutcome::kWaitlisted) {
    if (seen.waiting == 0 && fits) violations.join_while_room.fetch_add(1);
  }
}

void run_model(uint32_t seed, int io_threads, int admissions_per_thread) {
  auto slot = std::make_unique<ActivitySlot>();
  ActivitySettings settings;
  settings.capacity = 12;
  settings.max_guests = kGuestsMax;
  initialize_slot(*slot, settings, 0, 0);
  Model model;
  model.capacity = settings.capacity;
  Violations violations;

  std::mutex queue_mutex;  // Test harness only; the protocol under test is lock-free.
  std::deque<Held> queue;
  std::atomic<int> running{io_threads};
  std::vector<std::thread> threads;
  for (int t = 0; t < io_threads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(seed * 31 + static_cast<uint32_t>(t));
      for (int i = 0; i < admissions_per_thread; ++i) {
        const uint32_t guests = random() % (kGuestsMax + 1);
        const AdmitResult result = admit(*slot, guests, kNow);
        check_linearization_point(result, guests + 1, violations);
        if (admission_holds_place(result.outcome)) {
          std::lock_guard lock(queue_mutex);
          queue.push_back(Held{result.outcome, guests + 1});
        }
      }
      running.fetch_sub(1);
    });
  }
  Writer writer(*slot, model, violations, seed);
  for (;;) {
    std::deque<Held> batch;
    {
      std::lock_guard lock(queue_mutex);
      batch.swap(queue);
    }
    for (const Held& held : batch) writer.handle(held);
    if (batch.empty()) {
      if (running.load() == 0) {
        std::lock_guard lock(queue_mutex);
        if (queue.empty()) break;
      }
      std::this_thread::yield();
    }
  }
  for (auto& thread : threads) thread.join();
  writer.drain_promotions();

  EXPECT_EQ(violations.confirm_while_waiting.load(), 0) << "seed " << seed;
  EXPECT_EQ(violations.confirm_without_room.load(), 0) << "seed " << seed;
  EXPECT_EQ(violations.join_while_room.load(), 0) << "seed " << seed;
  EXPECT_EQ(violations.overbooked.load(), 0) << "seed " << seed;
  const AdmissionWord word = load_admission_word(*slot);
  EXPECT_EQ(word.taken, model.confirmed_seats()) << "seed " << seed;
  EXPECT_EQ(word.waiting, model.waiting.size()) << "seed " << seed;
  EXPECT_LE(word.taken, model.capacity) << "seed " << seed;
  // After the final promotion pass no fitting head stands beside free seats (rule 5).
  if (!model.waiting.empty()) {
    EXPECT_GT(model.waiting.front() + model.confirmed_seats(), model.capacity) << "seed " << seed;
  }
}

TEST(AdmissionModelTest, ConcurrentAdmissionsMatchTheSequentialModel) {
  for (uint32_t seed = 1; seed <= 20; ++seed) run_model(seed, 3, 4'000);
}

TEST(AdmissionModelTest, ContendedAdmissionsStillMatchTheModel) {
  // More threads than cores: CAS failures and retries happen; every outcome still checks out.
  for (uint32_t seed = 100; seed < 104; ++seed) run_model(seed, 6, 5'000);
}

}  // namespace
}  // namespace rsvpd::shm
