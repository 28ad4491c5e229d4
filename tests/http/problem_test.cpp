#include "http/problem.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "http/json_body.h"

namespace rsvpd::http {
namespace {

picojson::object parse_body(const std::string& text) {
  Result<picojson::value> parsed = parse_json_object(text);
  EXPECT_TRUE(parsed.is_ok()) << text;
  return parsed.is_ok() ? parsed->get<picojson::object>() : picojson::object();
}

TEST(ProblemTest, TableHoldsEverySlugOfTheContractWithItsStatus) {
  const std::map<std::string, int> contract = {
      {"malformed-json", 400},
      {"unauthenticated", 401},
      {"forbidden", 403},
      {"not-found", 404},
      {"activity-not-found", 404},
      {"rsvp-not-found", 404},
      {"method-not-allowed", 405},
      {"activity-exists", 409},
      {"already-rsvped", 409},
      {"rsvp-closed", 409},
      {"activity-archived", 409},
      {"activity-full", 409},
      {"capacity-below-confirmed", 409},
      {"capacity-below-waiting-party", 409},
      {"idempotency-key-in-flight", 409},
      {"version-mismatch", 412},
      {"payload-too-large", 413},
      {"invalid-field", 422},
      {"idempotency-key-reused", 422},
      {"request-header-fields-too-large", 431},
      {"internal", 500},
      {"overloaded", 503},
      {"storage-full", 503},
      {"activity-table-full", 507},
  };
  std::map<std::string, int> table;
  for (const ProblemType& type : problem_types()) {
    EXPECT_TRUE(table.emplace(std::string(type.slug), type.status).second) << type.slug;
    EXPECT_FALSE(type.title.empty());
    EXPECT_EQ(&problem_type(type.kind), &type);
  }
  EXPECT_EQ(table, contract);
}

TEST(ProblemTest, BodyCarriesTypeTitleStatusDetailAndRequestId) {
  const Problem problem = make_problem(ProblemKind::kActivityFull, "No seats and no waitlist.");
  EXPECT_EQ(problem.status, 409);
  const picojson::object body = parse_body(problem_body_json(problem, "req-1"));
  EXPECT_EQ(body.size(), 5u);
  EXPECT_EQ(body.at("type").get<std::string>(), "https://rsvpd.dev/problems/activity-full");
  EXPECT_EQ(body.at("title").get<std::string>(), "Activity is full");
  EXPECT_EQ(body.at("status").get<int64_t>(), 409);
  EXPECT_EQ(body.at("detail").get<std::string>(), "No seats and no waitlist.");
  EXPECT_EQ(body.at("request_id").get<std::string>(), "req-1");
  EXPECT_EQ(kProblemContentType, "application/problem+json");
}

TEST(ProblemTest, InvalidFieldListsTheErrors) {
  const Problem problem = invalid_field_problem({{"guests", "must be an integer from 0 to 100"}});
  EXPECT_EQ(problem.status, 422);
  EXPECT_EQ(problem.detail, "Field \"guests\" must be an integer from 0 to 100.");
  const picojson::object body = parse_body(problem_body_json(problem, "r"));
  const picojson::array& errors = body.at("errors").get<picojson::array>();
  ASSERT_EQ(errors.size(), 1u);
  const picojson::object& error = errors[0].get<picojson::object>();
  EXPECT_EQ(error.at("field").get<std::string>(), "guests");
  EXPECT_EQ(error.at("message").get<std::string>(), "must be an integer from 0 to 100");
  EXPECT_EQ(body.count("rsvp_id"), 0u);
}

TEST(ProblemTest, InvalidFieldListIsCappedButTheDetailCountsAll) {
  std::vector<FieldError> errors;
  for (std::size_t i = 0; i < kProblemFieldErrorsMax + 10; ++i) {
    errors.push_back({"f" + std::to_string(i), "unknown field"});
  }
  const Problem problem = invalid_field_problem(errors);
  EXPECT_EQ(problem.detail, std::to_string(kProblemFieldErrorsMax + 10) + " fields are invalid.");
  const picojson::object body = parse_body(problem_body_json(problem, "r"));
  EXPECT_EQ(body.at("errors").get<picojson::array>().size(), kProblemFieldErrorsMax);
}

TEST(ProblemTest, AlreadyRsvpedNamesTheLiveRsvp) {
  const picojson::object body = parse_body(problem_body_json(already_rsvped_problem("r_123"), "r"));
  EXPECT_EQ(body.at("status").get<int64_t>(), 409);
  EXPECT_EQ(body.at("rsvp_id").get<std::string>(), "r_123");
  EXPECT_EQ(body.count("errors"), 0u);
}

TEST(ProblemTest, HostileFieldNamesStayInsideTheirString) {
  const Problem problem =
      invalid_field_problem({{"\"}],\"status\":200,\"x\":[{\"", "unknown field"}});
  const picojson::object body = parse_body(problem_body_json(problem, "r"));
  EXPECT_EQ(body.at("status").get<int64_t>(), 422);
}

}  // namespace
}  // namespace rsvpd::http
