// rsvpctl's subcommands run as a subprocess against a real segment and a real LMDB store.
#include <gtest/gtest.h>
#include <picojson.h>

#include "cli/ttl.h"
#include "daemon/clock.h"
#include "daemon/store_keys.h"
#include "http/jwt_auth.h"
#include "tests/cli/test_world.h"

namespace rsvpd::testing {
namespace {

picojson::value parse_json(const std::string& text) {
  picojson::value value;
  const std::string error = picojson::parse(value, text);
  EXPECT_TRUE(error.empty()) << error << " in: " << text;
  return value;
}

bool has_finding(const std::string& out, const std::string& check) {
  return out.find("FINDING [" + check + "]") != std::string::npos;
}

// Capacity 4: alice (party 2) and bob (party 2) confirmed; carol (3) and dave (1) wait in that
// order. Cancelling bob frees 2 seats: carol (3) does not fit, so nobody is promoted (strict
// FIFO: dave, who would fit, stays behind her). Cancelling alice then promotes carol and dave.
struct Scenario {
  uint64_t alice = 0, bob = 0, carol = 0, dave = 0;
};

Scenario build_scenario(TestWorld& world) {
  world.create_activity("yoga", 4);
  world.create_activity("chess", 10);
  Scenario s;
  s.alice = world.rsvp("yoga", "alice", 1);
  s.bob = world.rsvp("yoga", "bob", 1);
  s.carol = world.rsvp("yoga", "carol", 2);
  s.dave = world.rsvp("yoga", "dave", 0);
  world.rsvp("chess", "alice", 0);
  return s;
}

TEST(RsvpctlTest, HelpOnEveryCommandExitsZero) {
  for (const char* command : {"status", "ls", "show", "watch", "audit", "verify", "backup",
                              "token", "activity"}) {
    const RunResult result = run_rsvpctl(std::string(command) + " --help");
    EXPECT_EQ(result.exit_code, 0) << command;
    EXPECT_NE(result.out.find("usage: rsvpctl " + std::string(command)), std::string::npos)
        << result.out;
  }
  EXPECT_EQ(run_rsvpctl("").exit_code, 2);
  EXPECT_EQ(run_rsvpctl("frobnicate").exit_code, 2);
  EXPECT_EQ(run_rsvpctl("status --no-such-flag").exit_code, 2);
}

TEST(RsvpctlTest, StatusReportsTheRunningDaemonFromTheSegment) {
  TestWorld world;
  world.create_activity("yoga", 4);
  world.segment().header().stats.commits_total.store(7, std::memory_order_relaxed);
  world.segment().header().stats.fdatasync_calls_total.store(7, std::memory_order_relaxed);
  RunResult result = world.run("status");
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find("running"), std::string::npos);
  EXPECT_NE(result.out.find("1.00 per commit"), std::string::npos) << result.out;
  result = world.run("status --json");
  ASSERT_EQ(result.exit_code, 0);
  const picojson::value json = parse_json(result.out);
  EXPECT_TRUE(json.get("running").get<bool>());
  EXPECT_EQ(json.get("pid").get<int64_t>(), getpid());
  EXPECT_EQ(json.get("activities").get<int64_t>(), 1);
  EXPECT_EQ(json.get("commits_total").get<int64_t>(), 7);
}

TEST(RsvpctlTest, StatusSaysWhenTheDaemonIsDown) {
  TestWorld world;
  RunResult result = run_rsvpctl("status --shm-name rsvpd-test-absent-segment", true);
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_NE(result.out.find("daemon down"), std::string::npos) << result.out;
  world.segment().mark_stopped();
  result = world.run("status --json");
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(parse_json(result.out).get("state").get<std::string>(), "stopped");
}

TEST(RsvpctlTest, LsListsLiveActivitiesWithSeats) {
  TestWorld world;
  build_scenario(world);
  RunResult result = world.run("ls");
  ASSERT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("ACTIVITY"), std::string::npos);
  EXPECT_NE(result.out.find("yoga"), std::string::npos);
  result = world.run("ls --json");
  ASSERT_EQ(result.exit_code, 0);
  const picojson::array items = parse_json(result.out).get<picojson::array>();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].get("activity_id").get<std::string>(), "yoga");
  EXPECT_EQ(items[1].get("confirmed_seats").get<int64_t>(), 4);
  EXPECT_EQ(items[1].get("waitlist_length").get<int64_t>(), 2);
  EXPECT_EQ(items[1].get("waitlisted_seats").get<int64_t>(), 4);
}

TEST(RsvpctlTest, ShowAddsWaitlistHeadAndAuditTailFromLmdb) {
  TestWorld world;
  build_scenario(world);
  RunResult result = world.run("show yoga --json");
  ASSERT_EQ(result.exit_code, 0) << result.out;
  const picojson::value json = parse_json(result.out);
  const picojson::array& head = json.get("waitlist_head").get<picojson::array>();
  ASSERT_EQ(head.size(), 2u);
  EXPECT_EQ(head[0].get("user_id").get<std::string>(), "carol");
  EXPECT_EQ(head[1].get("user_id").get<std::string>(), "dave");
  const picojson::array& tail = json.get("audit_tail").get<picojson::array>();
  ASSERT_EQ(tail.size(), 5u);  // created + 4 RSVPs.
  EXPECT_EQ(tail.back().get("op").get<std::string>(), "rsvp.waitlisted");
  EXPECT_EQ(json.get("live").get("confirmed_seats").get<int64_t>(), 4);
  result = world.run("show yoga");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("waitlist head"), std::string::npos);
  EXPECT_NE(result.out.find("carol"), std::string::npos);
}

TEST(RsvpctlTest, ShowOfAnUnknownActivityExitsFour) {
  TestWorld world;
  world.create_activity("yoga", 4);
  EXPECT_EQ(world.run("show nope").exit_code, 4);
  EXPECT_EQ(world.run("show 'bad id!'").exit_code, 2);
}

TEST(RsvpctlTest, WatchRedrawsOnEachCommittedChangeAndStopsOnCtrlC) {
  TestWorld world;
  world.create_activity("yoga", 4);
  Spawned watch({"watch", "yoga", "--json", "--data-dir", world.data_dir(), "--shm-name",
                 world.shm_name()});
  const picojson::value first = parse_json(watch.line());
  EXPECT_EQ(first.get("confirmed_seats").get<int64_t>(), 0);
  world.rsvp("yoga", "alice", 1);
  const picojson::value second = parse_json(watch.line());
  EXPECT_EQ(second.get("confirmed_seats").get<int64_t>(), 2);
  EXPECT_EQ(watch.stop(SIGINT), 0);
}

TEST(RsvpctlTest, WatchWithCountExits) {
  TestWorld world;
  world.create_activity("yoga", 4);
  const RunResult result = world.run("watch yoga --count 1");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("yoga"), std::string::npos);
}

TEST(RsvpctlTest, AuditFiltersByActivityAfterAndLimit) {
  TestWorld world;
  build_scenario(world);
  RunResult result = world.run("audit --activity yoga --after 3 --limit 2 --json");
  ASSERT_EQ(result.exit_code, 0);
  std::vector<picojson::value> lines;
  size_t start = 0;
  for (size_t end; (end = result.out.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(parse_json(result.out.substr(start, end - start)));
  }
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].get("seq").get<int64_t>(), 4);
  EXPECT_EQ(lines[1].get("seq").get<int64_t>(), 5);
  EXPECT_EQ(lines[0].get("activity_id").get<std::string>(), "yoga");
  result = world.run("audit");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("rsvp.waitlisted"), std::string::npos);
  EXPECT_EQ(world.run("audit --limit 0").exit_code, 2);
}

TEST(RsvpctlTest, AuditFollowPrintsNewEntriesUntilCtrlC) {
  TestWorld world;
  world.create_activity("yoga", 4);
  Spawned follow({"audit", "--follow", "--json", "--data-dir", world.data_dir(), "--shm-name",
                  world.shm_name()});
  EXPECT_EQ(parse_json(follow.line()).get("op").get<std::string>(), "activity.created");
  world.rsvp("yoga", "alice", 0);
  EXPECT_EQ(parse_json(follow.line()).get("op").get<std::string>(), "rsvp.confirmed");
  EXPECT_EQ(follow.stop(SIGINT), 0);
}

TEST(RsvpctlTest, VerifyPassesOnAConsistentWorldWithCancelsAndPromotions) {
  TestWorld world;
  const Scenario s = build_scenario(world);
  world.cancel(s.bob);    // 2 seats free; carol (3) does not fit; dave must not jump her.
  world.cancel(s.alice);  // Now carol, then dave.
  const RunResult result = world.run("verify");
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find("OK: no findings"), std::string::npos) << result.out;
  const picojson::value json = parse_json(world.run("verify --json").out);
  EXPECT_TRUE(json.get("ok").get<bool>());
  EXPECT_TRUE(json.get("segment_checked").get<bool>());
  EXPECT_EQ(json.get("audit_entries").get<int64_t>(), 2 + 5 + 2 + 2);
}

TEST(RsvpctlTest, VerifyFindsOverbooking) {
  TestWorld world;
  build_scenario(world);
  {
    WriteTxn txn = world.begin();
    ActivityRecord a = txn.get_activity("yoga").value();
    a.capacity = 3;  // 4 seats confirmed.
    TestWorld::check(txn.put_activity(a));
    world.commit(txn);
  }
  const RunResult result = world.run("verify");
  EXPECT_EQ(result.exit_code, 6);
  EXPECT_TRUE(has_finding(result.out, "overbooking")) << result.out;
  EXPECT_TRUE(has_finding(result.out, "segment")) << result.out;  // Never published.
}

TEST(RsvpctlTest, VerifyFindsAGapInTheAuditSeq) {
  TestWorld world;
  build_scenario(world);
  world.edit_raw("audit", [](MDB_txn* txn, MDB_dbi dbi) {
    const StoreKey key = u64_key(3);
    MDB_val k{key.view().size(), const_cast<char*>(key.view().data())};
    ASSERT_EQ(mdb_del(txn, dbi, &k, nullptr), 0);
  });
  const RunResult result = world.run("verify");
  EXPECT_EQ(result.exit_code, 6);
  EXPECT_NE(result.out.find("FINDING [audit-seq] gap: expected seq 3, found 4"), std::string::npos)
      << result.out;
}

TEST(RsvpctlTest, VerifyFindsAMalformedByUserKeyUnderItsTreesName) {
  TestWorld world;
  build_scenario(world);
  world.edit_raw("by_user", [](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val key{6, const_cast<char*>("carol\0")};  // A user, then nothing: no index tag.
    MDB_val value{0, nullptr};
    ASSERT_EQ(mdb_put(txn, dbi, &key, &value, 0), 0);
  });
  const RunResult result = world.run("verify");
  EXPECT_EQ(result.exit_code, 6);
  EXPECT_NE(result.out.find("FINDING [decode] by_user: malformed key"), std::string::npos)
      << result.out;
}

TEST(RsvpctlTest, VerifyRefusesAStoreOfAnotherSchemaVersion) {
  TestWorld world;
  const std::string other = world.dir() + "/other-version";
  {
    StoreOptions options;
    options.data_dir = other;
    options.map_size_bytes = size_t{64} << 20;
    ASSERT_TRUE(Store::open(options).is_ok());  // Creates a current store and closes it.
  }
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_set_maxdbs(env, kDatabasesMax), 0);
  ASSERT_EQ(mdb_env_open(env, other.c_str(), 0, 0600), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi meta = 0;
  ASSERT_EQ(mdb_dbi_open(txn, "meta", 0, &meta), 0);
  MDB_val key{kSchemaVersionKey.size(), const_cast<char*>(kSchemaVersionKey.data())};
  MDB_val value{4, const_cast<char*>("\x03\x00\x00\x00")};
  ASSERT_EQ(mdb_put(txn, meta, &key, &value, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);

  const RunResult result =
      run_rsvpctl("verify --data-dir " + other + " --shm-name " + world.shm_name(), true);
  EXPECT_EQ(result.exit_code, 5) << result.out;
  EXPECT_NE(result.out.find("schema version 3"), std::string::npos) << result.out;
}

TEST(RsvpctlTest, VerifyFindsIndexMismatchesBothWays) {
  TestWorld world;
  const Scenario s = build_scenario(world);
  {
    WriteTxn txn = world.begin();
    TestWorld::check(txn.delete_live_rsvp("alice", "yoga"));  // Record → index broken.
    TestWorld::check(txn.put_waiting("chess", 99, s.bob));     // Index → record broken.
    world.commit(txn);
  }
  const RunResult result = world.run("verify");
  EXPECT_EQ(result.exit_code, 6);
  EXPECT_NE(result.out.find("live_rsvp_by_user_activity entry missing"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("waiting_by_activity entry (chess, 99) disagrees"), std::string::npos)
      << result.out;
}

TEST(RsvpctlTest, VerifyFindsANewcomerConfirmedPastTheWaitlist) {
  TestWorld world;
  world.create_activity("yoga", 4);
  world.rsvp("yoga", "alice", 2);  // 3 seats.
  world.rsvp("yoga", "bob", 1);    // 2 seats: waits.
  {
    // A broken engine confirms carol (1 seat, fits) while bob waits.
    WriteTxn txn = world.begin();
    ActivityRecord a = txn.get_activity("yoga").value();
    RsvpRecord r;
    r.id = 50;
    r.activity_id = "yoga";
    r.user_id = "carol";
    r.confirm_order = a.next_confirm_order++;
    a.confirmed_seats += 1;
    TestWorld::check(txn.put_rsvp(r));
    TestWorld::check(txn.put_confirmed("yoga", r.confirm_order, r.id));
    TestWorld::check(txn.put_live_rsvp("carol", "yoga", r.id));
    TestWorld::check(txn.put_user_rsvp("carol", r.id));
    TestWorld::check(txn.put_activity(a));
    world.audit(txn, AuditOp::kRsvpConfirmed, "yoga", r.id, "carol", "", "confirmed", 1);
    world.commit(txn);
  }
  world.publish("yoga");
  const RunResult result = world.run("verify");
  EXPECT_EQ(result.exit_code, 6);
  EXPECT_NE(result.out.find("newcomer confirmed while 1 parties wait"), std::string::npos)
      << result.out;
  EXPECT_FALSE(has_finding(result.out, "overbooking")) << result.out;
}

TEST(RsvpctlTest, VerifyFindsTwoLiveRsvpsOfOneUserForOneActivity) {
  TestWorld world;
  build_scenario(world);
  {
    // A second confirmed RSVP of alice for chess, indexed everywhere the live index allows.
    WriteTxn txn = world.begin();
    ActivityRecord a = txn.get_activity("chess").value();
    RsvpRecord r;
    r.id = 60;
    r.activity_id = "chess";
    r.user_id = "alice";
    r.confirm_order = a.next_confirm_order++;
    a.confirmed_seats += 1;
    TestWorld::check(txn.put_rsvp(r));
    TestWorld::check(txn.put_confirmed("chess", r.confirm_order, r.id));
    TestWorld::check(txn.put_user_rsvp("alice", r.id));
    TestWorld::check(txn.put_activity(a));
    world.audit(txn, AuditOp::kRsvpConfirmed, "chess", r.id, "alice", "", "confirmed", 1);
    world.commit(txn);
  }
  world.publish("chess");
  const RunResult result = world.run("verify");
  EXPECT_EQ(result.exit_code, 6);
  EXPECT_TRUE(has_finding(result.out, "one-live")) << result.out;
}

TEST(RsvpctlTest, VerifyFindsAFittingHeadLeftWaitingBesideFreeSeats) {
  TestWorld world;
  build_scenario(world);
  {
    // A capacity raise committed without its promotion pass.
    WriteTxn txn = world.begin();
    ActivityRecord a = txn.get_activity("yoga").value();
    a.capacity = 10;
    a.version += 1;
    TestWorld::check(txn.put_activity(a));
    world.audit(txn, AuditOp::kActivityUpdated, "yoga", 0, "", "", "", 0);
    world.commit(txn);
  }
  world.publish("yoga");
  const RunResult result = world.run("verify");
  EXPECT_EQ(result.exit_code, 6);
  EXPECT_NE(result.out.find("fits the 6 free seats but waits"), std::string::npos) << result.out;
}

TEST(RsvpctlTest, VerifyFindsSegmentAndLmdbDisagreeing) {
  TestWorld world;
  build_scenario(world);
  const auto slot = world.segment().find("chess");
  ASSERT_TRUE(slot.has_value());
  shm::publish_snapshot(world.segment().slot(*slot),
                        shm::ActivitySnapshot{10, 5, 5, 0, 0, shm::ActivityStatus::kOpen, 1, 9});
  const RunResult result = world.run("verify --json");
  EXPECT_EQ(result.exit_code, 6);
  const picojson::value json = parse_json(result.out);
  const picojson::array& findings = json.get("findings").get<picojson::array>();
  ASSERT_EQ(findings.size(), 1u) << result.out;
  EXPECT_EQ(findings[0].get("check").get<std::string>(), "segment");
}

TEST(RsvpctlTest, BackupWritesACopyTheStoreOpens) {
  TestWorld world;
  build_scenario(world);
  const std::string target = world.dir() + "/backup";
  RunResult result = world.run("backup " + target + " --with-secret");
  ASSERT_EQ(result.exit_code, 0) << result.out;
  StoreOptions options;
  options.data_dir = target;
  options.read_only = true;
  Result<std::unique_ptr<Store>> copy = Store::open(options);
  ASSERT_TRUE(copy.is_ok()) << copy.status().to_string();
  {
    ReadTxn txn = std::move(copy.value()->begin_read()).value();
    EXPECT_EQ(txn.get_activity("yoga")->confirmed_seats, 4u);
    EXPECT_EQ(txn.last_audit_seq().value(), 7u);
  }
  EXPECT_TRUE(std::filesystem::exists(target + "/jwt.secret"));
  EXPECT_EQ(world.run("backup " + target).exit_code, 1);  // Not empty: refuses.
}

TEST(RsvpctlTest, TokenIssueMintsATokenTheVerifierAccepts) {
  TestWorld world;
  const RunResult result = world.run("token issue --user bob --role admin --role host --ttl 30m");
  ASSERT_EQ(result.exit_code, 0);
  const std::string token = result.out.substr(0, result.out.find('\n'));
  SystemClock clock;
  http::JwtVerifier verifier(clock, "0123456789abcdef0123456789abcdef");
  Result<http::Principal> principal = verifier.verify("Bearer " + token);
  ASSERT_TRUE(principal.is_ok()) << principal.status().to_string();
  EXPECT_EQ(principal->sub, "bob");
  EXPECT_TRUE(principal->admin);
  EXPECT_TRUE(principal->host);
  const int64_t expected_exp_ms = clock.now_ms() + 30 * 60 * 1000;
  EXPECT_NEAR(static_cast<double>(principal->exp_ms), static_cast<double>(expected_exp_ms), 5000);
  EXPECT_EQ(world.run("token issue --user bob --ttl 5x").exit_code, 2);
  EXPECT_EQ(world.run("token issue --user bob --role root").exit_code, 2);
  EXPECT_EQ(world.run("token issue --user bob --jwt-secret-file /nonexistent").exit_code, 7);
}

TEST(TtlTest, ParsesUnitsAndRejectsTheRest) {
  EXPECT_EQ(cli::parse_ttl_s("90s"), 90);
  EXPECT_EQ(cli::parse_ttl_s("30m"), 1800);
  EXPECT_EQ(cli::parse_ttl_s("1h"), 3600);
  EXPECT_EQ(cli::parse_ttl_s("7d"), 7 * 86400);
  EXPECT_EQ(cli::parse_ttl_s("365d"), cli::kTtlSecondsMax);
  for (const char* bad : {"", "h", "0h", "366d", "1.5h", "-1h", "1w", "10", "99999999999999d"}) {
    EXPECT_FALSE(cli::parse_ttl_s(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace rsvpd::testing
