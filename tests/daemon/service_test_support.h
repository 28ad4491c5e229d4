// Helpers for driving the Service from tests: a temp data dir, a unique segment name, and
// synchronous wrappers around the asynchronous change calls.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <string>

#include "daemon/service.h"
#include "shm/segment.h"

namespace rsvpd::testing {

class TempDataDir {
 public:
  TempDataDir() {
    std::string pattern = "/tmp/rsvpd-service-test-XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~TempDataDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string unique_shm_name() {
  static std::atomic<int> counter{0};
  return "rsvpd-svc-" + std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

inline Caller user(const std::string& sub) { return Caller{sub, false, false, "req-" + sub}; }
inline Caller host(const std::string& sub) { return Caller{sub, true, false, "req-" + sub}; }
inline Caller admin(const std::string& sub) { return Caller{sub, false, true, "req-" + sub}; }

template <typename T, typename Call>
ServiceOutcome<T> wait_for(Call&& call) {
  auto promise = std::make_shared<std::promise<ServiceOutcome<T>>>();
  auto future = promise->get_future();
  call([promise](ServiceOutcome<T> outcome) { promise->set_value(std::move(outcome)); });
  return future.get();
}

// One service on a fresh data dir; `reopen` restarts it on the same dir (recovery).
class ServiceFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.data_dir = data_dir_.path();
    options_.shm_name = unique_shm_name();
    options_.activities_max = 64;
    options_.commit_queue_capacity = 8192;
    open();
  }
  void TearDown() override {
    service_.reset();
    shm::Segment::remove(options_.shm_name);
  }
  void open() {
    Result<std::unique_ptr<Service>> opened = Service::open(options_, clock_, nullptr);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    service_ = std::move(opened).value();
  }
  void reopen() {
    service_.reset();
    open();
  }

  ServiceOutcome<ActivityView> create(const std::string& id, uint32_t capacity,
                                      uint32_t max_guests = 5, bool waitlist = true,
                                      uint32_t waitlist_limit = 0) {
    NewActivity input;
    input.id = id;
    input.title = "Activity " + id;
    input.capacity = capacity;
    input.max_guests = max_guests;
    input.waitlist_enabled = waitlist;
    input.waitlist_limit = waitlist_limit;
    return wait_for<ActivityView>(
        [&](auto done) { service_->create_activity(host("host-1"), input, done); });
  }
  ServiceOutcome<ActivityView> patch(const std::string& id, ActivityPatch change,
                                     const Caller& caller = host("host-1")) {
    return wait_for<ActivityView>(
        [&](auto done) { service_->update_activity(caller, id, change, done); });
  }
  ServiceOutcome<RsvpCreated> rsvp(const std::string& activity, const std::string& sub,
                                   uint32_t guests = 0,
                                   std::optional<std::string> key = std::nullopt,
                                   const std::string& fingerprint = "{}") {
    NewRsvp input;
    input.activity_id = activity;
    input.guests = guests;
    input.idempotency_key = std::move(key);
    input.request_fingerprint = fingerprint;
    return wait_for<RsvpCreated>(
        [&](auto done) { service_->create_rsvp(user(sub), input, done); });
  }
  ServiceOutcome<RsvpView> cancel(uint64_t rsvp_id, const Caller& caller) {
    return wait_for<RsvpView>(
        [&](auto done) { service_->cancel_rsvp(caller, rsvp_id, done); });
  }
  ServiceOutcome<RsvpView> get(uint64_t rsvp_id) {
    return service_->get_rsvp(admin("root"), rsvp_id);
  }

  TempDataDir data_dir_;
  ManualClock clock_{1'800'000'000'000};
  ServiceOptions options_;
  std::unique_ptr<Service> service_;
};

}  // namespace rsvpd::testing
