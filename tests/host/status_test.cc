// The host side's one error convention (common/status.h): Status's codes, messages and context,
// Result's value or Status, and the codes' names.
#include "common/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace wfp::host {
namespace {

TEST(Status, DefaultIsSuccessWithoutAMessage) {
  const Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_TRUE(static_cast<bool>(ok));
  EXPECT_EQ(ok.code(), WFP_OK);
  EXPECT_EQ(ok.message(), "");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(Status, EachFactoryGivesItsAbiCode) {
  EXPECT_EQ(Status::InvalidArgument("m").code(), WFP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(Status::NotFound("m").code(), WFP_ERR_NOT_FOUND);
  EXPECT_EQ(Status::Conflict("m").code(), WFP_ERR_CONFLICT);
  EXPECT_EQ(Status::Busy("m").code(), WFP_ERR_BUSY);
  EXPECT_EQ(Status::WrongState("m").code(), WFP_ERR_STATE);
  EXPECT_EQ(Status::Internal("m").code(), WFP_ERR_INTERNAL);
  EXPECT_EQ(Status::Unsupported("m").code(), WFP_ERR_UNSUPPORTED);
  const Status failed = Status::NotFound("store: no schedule 7");
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(static_cast<bool>(failed));
  EXPECT_EQ(failed.message(), "store: no schedule 7");
}

// A code mapped from a store's (which may say success for a failure read too late) is never OK.
TEST(Status, AFailureWithAMappedCodeIsNeverSuccess) {
  const Status busy = Status::Failure(WFP_ERR_BUSY, "locked");
  EXPECT_EQ(busy.code(), WFP_ERR_BUSY);
  EXPECT_EQ(busy.message(), "locked");
  const Status unmapped = Status::Failure(WFP_OK, "disk I/O error");
  EXPECT_FALSE(unmapped.ok());
  EXPECT_EQ(unmapped.code(), WFP_ERR_INTERNAL);
  EXPECT_EQ(unmapped.message(), "disk I/O error");
  static_assert(FailureCode(WFP_OK) == WFP_ERR_INTERNAL);
  static_assert(FailureCode(WFP_ERR_CONFLICT) == WFP_ERR_CONFLICT);
}

TEST(Status, WithContextPrefixesTheMessageAndKeepsTheCode) {
  const Status s = Status::Conflict("duplicate id 3").WithContext("seed 'a.json': ");
  EXPECT_EQ(s.code(), WFP_ERR_CONFLICT);
  EXPECT_EQ(s.message(), "seed 'a.json': duplicate id 3");
  EXPECT_TRUE(Status().WithContext("ignored: ").ok());
  EXPECT_EQ(Status().WithContext("ignored: ").message(), "");
}

TEST(Result, HoldsAValueOrTheStatusWhyNot) {
  Result<int> value = 42;
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 42);
  EXPECT_EQ(value.value(), 42);
  EXPECT_TRUE(value.status().ok());

  const Result<int> none = Status::Busy("store: busy");
  EXPECT_FALSE(none.ok());
  EXPECT_FALSE(static_cast<bool>(none));
  EXPECT_EQ(none.status().code(), WFP_ERR_BUSY);
  EXPECT_EQ(none.status().message(), "store: busy");
}

TEST(Result, MovesAMoveOnlyValueOut) {
  Result<std::unique_ptr<std::string>> r = std::make_unique<std::string>("x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->get()->size(), 1u);
  std::unique_ptr<std::string> taken = std::move(r).value();
  EXPECT_EQ(*taken, "x");
}

TEST(StatusCodeName, NamesEveryAbiCode) {
  EXPECT_STREQ(StatusCodeName(WFP_OK), "ok");
  EXPECT_STREQ(StatusCodeName(WFP_ERR_INVALID_ARGUMENT), "invalid argument");
  EXPECT_STREQ(StatusCodeName(WFP_ERR_NOT_FOUND), "not found");
  EXPECT_STREQ(StatusCodeName(WFP_ERR_CONFLICT), "conflict");
  EXPECT_STREQ(StatusCodeName(WFP_ERR_BUSY), "busy");
  EXPECT_STREQ(StatusCodeName(WFP_ERR_STATE), "wrong state");
  EXPECT_STREQ(StatusCodeName(WFP_ERR_INTERNAL), "internal");
  EXPECT_STREQ(StatusCodeName(WFP_ERR_UNSUPPORTED), "unsupported");
  EXPECT_STREQ(StatusCodeName(static_cast<wfp_status>(999)), "unknown");
}

}  // namespace
}  // namespace wfp::host
