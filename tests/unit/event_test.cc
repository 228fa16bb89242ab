// Filing events on their own (services/lifecycle/event.h): field validation,
// dossier codes, the replay order, and the canonical encoding.
#include "services/lifecycle/event.h"

#include "gtest/gtest.h"

namespace pstrack {
namespace {

FilingEvent Received() {
  FilingEvent e;
  e.event_id = "evt-1";
  e.dossier_code = "P22.STP-250602-0001";
  e.agency_code = "P22.STP";
  e.procedure_code = "1.001193";
  e.occurred_at = absl::FromUnixSeconds(1748833200);  // 2025-06-02 10:00 +07
  e.kind = EventKind::kReceived;
  e.channel = Channel::kOnline;
  return e;
}

void ExpectInvalid(const FilingEvent& e, const std::string& field) {
  absl::Status s = ValidateEvent(e);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field << ": " << s;
  EXPECT_NE(s.message().find(field), absl::string_view::npos) << field << ": " << s;
}

TEST(EventValidationTest, AValidReceiptPasses) { EXPECT_TRUE(ValidateEvent(Received()).ok()); }

TEST(EventValidationTest, EachMissingOrMalformedFieldIsNamed) {
  FilingEvent e = Received();
  e.event_id = "";
  ExpectInvalid(e, "event.event_id");
  e = Received();
  e.event_id = "has space";
  ExpectInvalid(e, "event.event_id");
  e = Received();
  e.event_id = std::string(129, 'x');
  ExpectInvalid(e, "event.event_id");
  e = Received();
  e.dossier_code = "nonsense";
  ExpectInvalid(e, "event.dossier_code");
  e = Received();
  e.agency_code = "p22";
  ExpectInvalid(e, "event.agency_code");
  e = Received();
  e.procedure_code = "";
  ExpectInvalid(e, "event.procedure_code");
  e = Received();
  e.procedure_code = "1.1";
  ExpectInvalid(e, "event.procedure_code");
  e = Received();
  e.occurred_at = absl::InfinitePast();
  ExpectInvalid(e, "event.occurred_at");
  e = Received();
  e.occurred_at = absl::FromUnixSeconds(0);
  ExpectInvalid(e, "event.occurred_at");
  e = Received();
  e.kind = EventKind::kUnspecified;
  ExpectInvalid(e, "event.kind");
  e = Received();
  e.channel = Channel::kUnspecified;
  ExpectInvalid(e, "event.received.channel");
}

TEST(EventValidationTest, PayloadMustMatchTheKind) {
  FilingEvent e = Received();
  e.kind = EventKind::kPayment;
  e.channel = Channel::kUnspecified;
  e.amount_vnd = 0;
  ExpectInvalid(e, "event.payment.amount_vnd");
  e.amount_vnd = -5;
  ExpectInvalid(e, "event.payment.amount_vnd");
  e.amount_vnd = 20000;
  EXPECT_TRUE(ValidateEvent(e).ok());
  e.rating = Rating::kSatisfied;
  ExpectInvalid(e, "event.feedback");
  e = Received();
  e.kind = EventKind::kResolved;
  ExpectInvalid(e, "event.received.channel");  // a channel does not belong on a resolution
  e.channel = Channel::kUnspecified;
  EXPECT_TRUE(ValidateEvent(e).ok());
  e.reason = "why";
  ExpectInvalid(e, "event.reason");
  e = Received();
  e.kind = EventKind::kReappointed;
  e.channel = Channel::kUnspecified;
  ExpectInvalid(e, "event.reappointed.new_appointment_date");
  e.new_appointment = Date(2025, 6, 20);
  EXPECT_TRUE(ValidateEvent(e).ok());
  e = Received();
  e.kind = EventKind::kDigitised;
  e.channel = Channel::kUnspecified;
  ExpectInvalid(e, "event.digitised");
  e.digitised_result = true;
  EXPECT_TRUE(ValidateEvent(e).ok());
  e = Received();
  e.kind = EventKind::kFeedback;
  e.channel = Channel::kUnspecified;
  ExpectInvalid(e, "event.feedback.rating");
  e.rating = Rating::kDissatisfied;
  e.complaint = true;
  EXPECT_TRUE(ValidateEvent(e).ok());
  e = Received();
  e.kind = EventKind::kRegisteredOnline;
  e.channel = Channel::kUnspecified;
  e.procedure_code = "";
  ExpectInvalid(e, "event.procedure_code");
}

TEST(DossierCodeTest, FollowsCircular01) {
  EXPECT_TRUE(ValidateDossierCode("P22.STP-250602-0001", "c").ok());
  EXPECT_TRUE(ValidateDossierCode("000.00.22.H40-251231-12345", "c").ok());
  for (const char* bad : {"", "P22-250602", "P22-250602-01", "P22-251302-0001", "P22-250230-0001", "P22-2506x2-0001",
                          "P22 STP-250602-0001"}) {
    EXPECT_FALSE(ValidateDossierCode(bad, "c").ok()) << bad;
  }
}

TEST(EventOrderTest, TimeThenLifecycleThenId) {
  FilingEvent a = Received(), b = Received();
  b.kind = EventKind::kDigitised;
  EXPECT_TRUE(ReplayOrderLess(a, b));  // same second: receipt first
  b.occurred_at = a.occurred_at - absl::Seconds(1);
  EXPECT_TRUE(ReplayOrderLess(b, a));
  FilingEvent c = Received();
  c.event_id = "evt-0";
  EXPECT_TRUE(ReplayOrderLess(c, a));
  EXPECT_FALSE(ReplayOrderLess(a, a));
}

TEST(EventEncodingTest, RoundTripsEveryField) {
  FilingEvent e = Received();
  e.declared_appointment = Date(2025, 6, 5);
  e.reason = "lý do | có \\ ký tự";
  EXPECT_EQ(EncodeEvent(*DecodeEvent(EncodeEvent(e))), EncodeEvent(e));
  FilingEvent f = Received();
  f.kind = EventKind::kDigitised;
  f.channel = Channel::kUnspecified;
  f.digitised_documents = f.reused_data = f.shared_for_reuse = true;
  auto g = DecodeEvent(EncodeEvent(f));
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->digitised_documents && g->reused_data && g->shared_for_reuse);
  EXPECT_FALSE(g->digitised_result);
  EXPECT_EQ(g->occurred_at, f.occurred_at);
  // Any difference in content changes the encoding (the idempotency check).
  FilingEvent h = e;
  h.channel = Channel::kPostal;
  EXPECT_NE(EncodeEvent(h), EncodeEvent(e));
  EXPECT_EQ(DecodeEvent("garbage").status().code(), absl::StatusCode::kDataLoss);
}

TEST(EventNamesTest, ParseWhatTheyPrint) {
  for (int k = 1; k <= kMaxEventKind; ++k) {
    auto kind = static_cast<EventKind>(k);
    EXPECT_EQ(*ParseEventKind(EventKindName(kind), "kind"), kind);
  }
  EXPECT_EQ(*ParseChannel("online", "c"), Channel::kOnline);
  EXPECT_FALSE(ParseChannel("fax", "c").ok());
  EXPECT_EQ(*ParseRating("very_satisfied", "r"), Rating::kVerySatisfied);
}

}  // namespace
}  // namespace pstrack
