// API keys, the permission table, rate limits and call limits: the pure
// parts of access control.
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/common/call_limits.h"
#include "services/security/api_key.h"
#include "services/security/policy.h"
#include "services/security/rate_limiter.h"

namespace pstrack {
namespace {

TEST(ApiKeyTest, HashIsSha256OfSaltBytesThenSecret) {
  // FIPS 180-2 test vector: SHA-256("abc"), with an empty salt.
  EXPECT_EQ(HashSecret("", "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // The salt is hex: "616263" is "abc" itself.
  EXPECT_EQ(HashSecret("616263", ""), HashSecret("", "abc"));
  EXPECT_NE(HashSecret("00", "abc"), HashSecret("", "abc"));
}

TEST(ApiKeyTest, MintedTokensParseAndMatchOnlyTheirOwnRecord) {
  ApiKeyRecord a, b;
  a.role = b.role = Role::kAnalyst;
  const std::string ta = MintKey(a), tb = MintKey(b);
  EXPECT_TRUE(absl::StartsWith(ta, "pst_" + a.key_id + "."));
  EXPECT_EQ(a.key_id.size(), 16u);
  EXPECT_NE(a.key_id, b.key_id);
  EXPECT_NE(a.salt, b.salt);
  auto pa = ParseToken(ta);
  ASSERT_TRUE(pa.ok()) << pa.status();
  EXPECT_EQ(pa->key_id, a.key_id);
  EXPECT_TRUE(SecretMatches(a, pa->secret));
  EXPECT_FALSE(SecretMatches(b, pa->secret));
  EXPECT_FALSE(SecretMatches(a, pa->secret + "x"));
  EXPECT_FALSE(SecretMatches(a, ""));
  EXPECT_FALSE(absl::StrContains(a.secret_hash, pa->secret));
  // Certificate-only identities get no token (and an unguessable hash).
  ApiKeyRecord c;
  c.certificate_only = true;
  EXPECT_EQ(MintKey(c), "");
  EXPECT_EQ(c.secret_hash.size(), 64u);
}

TEST(ApiKeyTest, MalformedTokensAreUnauthenticated) {
  for (const char* bad : {"", "abc", "pst_", "pst_0123456789abcdef", "pst_0123456789abcdef.short",
                          "pst_0123456789ABCDEF.aaaaaaaaaaaaaaaaaaaa", "pst_0123.aaaaaaaaaaaaaaaaaaaaaaaa",
                          "Bearer pst_0123456789abcdef.aaaaaaaaaaaaaaaaaaaa"}) {
    auto p = ParseToken(bad);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated) << bad;
  }
  EXPECT_TRUE(ParseToken(" pst_0123456789abcdef.aaaaaaaaaaaaaaaaaaaa\n").ok());
}

TEST(ApiKeyTest, NewKeysAreValidatedNamingTheField) {
  ApiKeyRecord k;
  k.name = "Trung tâm";
  k.role = Role::kCentre;
  EXPECT_TRUE(absl::StrContains(ValidateNewKey(k, "key").message(), "key.scope_agency_code"));
  k.scope_agency_code = "P22";
  EXPECT_TRUE(ValidateNewKey(k, "key").ok());
  k.role = Role::kAdmin;
  EXPECT_TRUE(absl::StrContains(ValidateNewKey(k, "key").message(), "key.scope_agency_code"));
  k.scope_agency_code.clear();
  EXPECT_TRUE(ValidateNewKey(k, "key").ok());
  k.name.clear();
  EXPECT_TRUE(absl::StrContains(ValidateNewKey(k, "key").message(), "key.name"));
  k.name = "x";
  k.certificate_only = true;
  EXPECT_TRUE(absl::StrContains(ValidateNewKey(k, "key").message(), "key.certificate_only"));
  k.certificate_subject = "bad\nname";
  EXPECT_TRUE(absl::StrContains(ValidateNewKey(k, "key").message(), "key.certificate_subject"));
  k.certificate_subject = "centre.example";
  k.rate_limit_per_second = -1;
  EXPECT_TRUE(absl::StrContains(ValidateNewKey(k, "key").message(), "key.rate_limit_per_second"));
  k.role = Role::kUnspecified;
  EXPECT_TRUE(absl::StrContains(ValidateNewKey(k, "key").message(), "key.role"));
  EXPECT_EQ(*ParseRole("Centre", "r"), Role::kCentre);
  EXPECT_FALSE(ParseRole("root", "r").ok());
}

TEST(PolicyTest, LookupByShortOrFullNameAndAllowedRoles) {
  const MethodPolicy* p = FindMethodPolicy("RecordEvents");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p, FindMethodPolicy("pstrack.v1.FilingService/RecordEvents"));
  EXPECT_EQ(FindMethodPolicy("pstrack.v1.MetricsService/RecordEvents"), nullptr);
  EXPECT_EQ(FindMethodPolicy("DropEverything"), nullptr);
  EXPECT_TRUE(p->allows(Role::kCentre));
  EXPECT_FALSE(p->allows(Role::kAnalyst));
  EXPECT_FALSE(p->allows(Role::kUnspecified));
  EXPECT_TRUE(p->audited);
  EXPECT_EQ(p->allowed_roles(), "centre, admin");
  EXPECT_FALSE(FindMethodPolicy("GetIndicators")->audited);
  // Every write is audited and no write is open to analysts.
  for (const MethodPolicy& m : AllMethodPolicies()) {
    const bool reads = absl::StartsWith(m.method, "Get") || absl::StartsWith(m.method, "List") ||
                       m.method == "ResolveSuccessor" || m.method == "ScoreIndex" || m.method == "RankAgencies" ||
                       m.method == "WatchIndicators" || m.method == "WhoAmI" || m.method == "Reconcile";
    if (!reads) {
      EXPECT_TRUE(m.audited) << m.full_name();
      EXPECT_FALSE(m.allows(Role::kAnalyst)) << m.full_name();
    }
  }
}

TEST(RateLimiterTest, BucketsRefillAtTheRateAndSayWhenToRetry) {
  RateLimiter limiter(/*burst_seconds=*/2);
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(limiter.Take("a", 5, t0), absl::ZeroDuration()) << i;
  EXPECT_EQ(limiter.Take("a", 5, t0), absl::Milliseconds(200));
  EXPECT_EQ(limiter.Take("b", 5, t0), absl::ZeroDuration()) << "buckets are per client";
  EXPECT_EQ(limiter.Take("a", 5, t0 + absl::Milliseconds(100)), absl::Milliseconds(100));
  EXPECT_EQ(limiter.Take("a", 5, t0 + absl::Milliseconds(200)), absl::ZeroDuration());
  // Refill never exceeds the bucket.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(limiter.Take("a", 5, t0 + absl::Hours(1)), absl::ZeroDuration());
  EXPECT_GT(limiter.Take("a", 5, t0 + absl::Hours(1)), absl::ZeroDuration());
  // Rate 0: unlimited.
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(limiter.Take("c", 0, t0), absl::ZeroDuration());
}

TEST(RateLimiterTest, ForgetsOnlyFullBucketsWhenItHasManyClients) {
  RateLimiter limiter(1);
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  EXPECT_EQ(limiter.Take("hot", 1, t0), absl::ZeroDuration());
  EXPECT_GT(limiter.Take("hot", 1, t0), absl::ZeroDuration());
  for (int i = 0; i < 100'000; ++i) limiter.Take("client" + std::to_string(i), 1000, t0 + absl::Milliseconds(1));
  // "hot" was not forgotten: it is still empty.
  EXPECT_GT(limiter.Take("hot", 1, t0 + absl::Milliseconds(2)), absl::ZeroDuration());
}

TEST(CallLimitsTest, DeadlinesAndCancellationNest) {
  EXPECT_TRUE(CheckCallLimits().ok());
  EXPECT_EQ(CurrentCallDeadline(), absl::InfiniteFuture());
  bool cancelled = false;
  {
    ScopedCallLimits outer(absl::Now() + absl::Hours(1), [&] { return cancelled; });
    EXPECT_TRUE(CheckCallLimits().ok());
    cancelled = true;
    EXPECT_EQ(CheckCallLimits().code(), absl::StatusCode::kCancelled);
    {
      ScopedCallLimits inner(absl::Now() - absl::Seconds(1));
      EXPECT_EQ(CheckCallLimits().code(), absl::StatusCode::kDeadlineExceeded);
    }
    EXPECT_EQ(CheckCallLimits().code(), absl::StatusCode::kCancelled);
  }
  EXPECT_TRUE(CheckCallLimits().ok());
}

}  // namespace
}  // namespace pstrack
