// Tests for the CLI without a server: the command table, dispatch of command
// words, option parsing per command, the help texts, RunCli's exit statuses,
// and the pure parts of the commands (reading event, report and external
// input files; scope, period and other shared options).
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/csv.h"
#include "tools/cli/calls.h"
#include "tools/cli/command.h"
#include "tools/cli/commands.h"
#include "tools/cli/exit_code.h"
#include "tools/cli/inputs.h"
#include "tools/cli/output.h"
#include "tools/cli/request_options.h"

namespace pstrack::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Words = std::vector<std::string>;

const std::vector<Command>& Table() { return CommandTable(); }

absl::StatusOr<Invocation> Parse(const Words& argv) { return ParseCommandLine(Table(), argv); }

std::string CommandWords(const Invocation& invocation) {
  return invocation.command == nullptr ? "" : absl::StrJoin(invocation.command->words, " ");
}

struct Ran {
  int code = 0;
  std::string out, err;
};

Ran RunLine(const std::vector<Command>& table, const Words& argv) {
  std::ostringstream out, err;
  Ran ran;
  ran.code = RunCli(table, argv, out, err);
  ran.out = out.str();
  ran.err = err.str();
  return ran;
}

// ---- the table ----

TEST(CommandTable, EveryOptionNameHasOneKindInEveryCommand) {
  // The parser reads an option before the command's words by its kind.
  std::map<std::string, std::pair<OptionKind, std::string>> seen;
  for (const Command& command : Table()) {
    for (const OptionSpec& spec : AcceptedOptions(command)) {
      auto [it, added] = seen.emplace(spec.name, std::make_pair(spec.kind, UsageLine(command)));
      EXPECT_TRUE(added || it->second.first == spec.kind)
          << "--" << spec.name << " in '" << UsageLine(command) << "' and in '" << it->second.second << "'";
    }
  }
}

TEST(CommandTable, CommandsAreDistinctAndDescribed) {
  std::set<std::string> words;
  for (const Command& command : Table()) {
    EXPECT_TRUE(words.insert(absl::StrJoin(command.words, " ")).second) << UsageLine(command);
    EXPECT_FALSE(command.summary.empty()) << UsageLine(command);
    EXPECT_FALSE(command.group.empty()) << UsageLine(command);
    // `completion bash` is served by RunCli itself, which has the table.
    EXPECT_TRUE(command.run || command.words == std::vector<std::string>({"completion", "bash"})) << UsageLine(command);
    std::set<std::string> names;
    for (const OptionSpec& spec : AcceptedOptions(command)) {
      EXPECT_TRUE(names.insert(spec.name).second) << "--" << spec.name << " twice in " << UsageLine(command);
      EXPECT_FALSE(spec.help.empty()) << "--" << spec.name << " of " << UsageLine(command);
    }
  }
  // Every command of the CLI before the table, and no other.
  const std::set<std::string> expected = {"agency list",
                                          "agency get",
                                          "agency import",
                                          "agency resolve",
                                          "event send",
                                          "dossier get",
                                          "dossier list",
                                          "procedure list",
                                          "procedure get",
                                          "procedure import",
                                          "indicators",
                                          "breakdown",
                                          "series",
                                          "rank",
                                          "score",
                                          "methodologies",
                                          "indicator-list",
                                          "external submit",
                                          "aggregates check",
                                          "aggregates repair",
                                          "report submit",
                                          "report get",
                                          "report list",
                                          "reconcile",
                                          "silent",
                                          "quality",
                                          "whoami",
                                          "key create",
                                          "key list",
                                          "key revoke",
                                          "audit list",
                                          "methodologies reload",
                                          "completion bash"};
  EXPECT_EQ(words, expected);
}

TEST(CommandTable, EveryOptionInASynopsisIsAccepted) {
  for (const Command& command : Table()) {
    std::set<std::string> accepted;
    for (const OptionSpec& spec : AcceptedOptions(command)) accepted.insert(spec.name);
    for (absl::string_view piece : absl::StrSplit(command.synopsis, absl::ByAnyChar(" []()|"), absl::SkipEmpty())) {
      if (!absl::StartsWith(piece, "--")) continue;
      EXPECT_TRUE(accepted.contains(std::string(piece.substr(2)))) << piece << " in " << UsageLine(command);
    }
  }
}

// ---- dispatch ----

TEST(Dispatch, FindsTheCommandByItsWords) {
  auto parsed = Parse({"agency", "list"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(CommandWords(*parsed), "agency list");
  parsed = Parse({"procedure", "get", "1.001193"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(CommandWords(*parsed), "procedure get");
  EXPECT_EQ(parsed->args.positional(), Words{"1.001193"});
}

TEST(Dispatch, PluralNounIsTheSameCommand) {
  auto parsed = Parse({"agencies", "get", "P22"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(CommandWords(*parsed), "agency get");
  EXPECT_EQ(parsed->args.positional(0), "P22");
}

TEST(Dispatch, LongestCommandWins) {
  auto one = Parse({"methodologies"});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(CommandWords(*one), "methodologies");
  auto two = Parse({"methodologies", "reload"});
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(CommandWords(*two), "methodologies reload");
}

TEST(Dispatch, UnknownCommandIsAUsageError) {
  auto parsed = Parse({"agency", "frobnicate"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "unknown command 'agency frobnicate'; run 'pstrack help'");
  EXPECT_EQ(ExitCode(parsed.status()), kExitUsage);
}

TEST(Dispatch, WrongNumberOfArgumentsShowsTheUsage) {
  auto missing = Parse({"agency", "get"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "usage: pstrack agency get CODE");
  EXPECT_EQ(ExitCode(missing.status()), kExitUsage);
  auto extra = Parse({"indicators", "P22", "--scope=P22"});
  ASSERT_FALSE(extra.ok());
  EXPECT_THAT(std::string(extra.status().message()), HasSubstr("usage: pstrack indicators --scope CODE"));
  EXPECT_EQ(ExitCode(extra.status()), kExitUsage);
}

// ---- options ----

TEST(Options, BothSpellingsOfAValue) {
  auto equals = Parse({"agency", "list", "--name=quang ninh", "--depth=2"});
  ASSERT_TRUE(equals.ok()) << equals.status();
  EXPECT_EQ(equals->args.String("name"), "quang ninh");
  EXPECT_EQ(equals->args.Int("depth"), 2);
  auto spaced = Parse({"agency", "list", "--name", "quang ninh", "--depth", "2"});
  ASSERT_TRUE(spaced.ok()) << spaced.status();
  EXPECT_EQ(spaced->args.String("name"), "quang ninh");
  EXPECT_EQ(spaced->args.Int("depth"), 2);
  EXPECT_TRUE(spaced->args.positional().empty());
}

TEST(Options, DefaultsWhenNotGiven) {
  auto parsed = Parse({"quality", "--scope", "P22", "--period", "2025"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->args.String("sort"), "issues");
  EXPECT_EQ(parsed->args.Int("far_overdue"), 10);
  EXPECT_FALSE(parsed->args.Bool("ascending"));
  EXPECT_FALSE(parsed->args.Given("sort"));
  EXPECT_EQ(parsed->args.String("server"), "127.0.0.1:50051");
}

TEST(Options, OptionsBeforeTheCommandWords) {
  // As the e2e tests and docs/security.md write them.
  auto parsed = Parse({"--server=127.0.0.1:1", "--timeout=5", "--scope", "P22", "indicators", "--period", "2025"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(CommandWords(*parsed), "indicators");
  EXPECT_EQ(parsed->args.String("scope"), "P22");
  EXPECT_EQ(parsed->args.String("period"), "2025");
  EXPECT_EQ(parsed->args.Int("timeout"), 5);
  auto json = Parse({"--json", "aggregates", "check"});
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(CommandWords(*json), "aggregates check");
  EXPECT_EQ(json->output, Output::kJson);
}

TEST(Options, BooleanSpellings) {
  auto on = Parse({"dossier", "list", "--overdue"});
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_TRUE(on->args.Bool("overdue"));
  auto off = Parse({"dossier", "list", "--overdue", "--nooverdue"});
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->args.Bool("overdue"));
  auto explicit_false = Parse({"dossier", "list", "--overdue=false"});
  ASSERT_TRUE(explicit_false.ok()) << explicit_false.status();
  EXPECT_FALSE(explicit_false->args.Bool("overdue"));
  // A boolean does not take the next argument: it stays a word.
  auto word = Parse({"agency", "get", "--json", "P22"});
  ASSERT_TRUE(word.ok()) << word.status();
  EXPECT_EQ(word->args.positional(0), "P22");
  EXPECT_EQ(word->output, Output::kJson);
  auto bad = Parse({"dossier", "list", "--overdue=perhaps"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("--overdue"));
}

TEST(Options, ListOption) {
  auto parsed = Parse({"indicators", "--scope=VN", "--period=2025", "--ids", "on_time_rate, received,,"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  google::protobuf::RepeatedPtrField<std::string> ids;
  IdsFromArgs(parsed->args, &ids);
  EXPECT_EQ(Words(ids.begin(), ids.end()), (Words{"on_time_rate", "received"}));
}

TEST(Options, UnknownOptionIsNamed) {
  auto parsed = Parse({"agency", "list", "--frobnicate=1"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("unknown option --frobnicate"));
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("pstrack agency list --help"));
  EXPECT_EQ(ExitCode(parsed.status()), kExitFailure);
}

TEST(Options, AnotherCommandsOptionIsRefused) {
  // --scope is key create's and the indicators', not agency list's.
  auto parsed = Parse({"agency", "list", "--scope", "P22"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("--scope is not an option of 'agency list'"));
  // --csv only where a command prints a table of rows (not one record).
  parsed = Parse({"agency", "get", "P22", "--csv"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("--csv is not an option of 'agency get'"));
  // --json not where there is nothing but a summary.
  parsed = Parse({"event", "send", "events.csv", "--json"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("--json is not an option of 'event send'"));
}

TEST(Options, MissingValueIsNamed) {
  auto parsed = Parse({"agency", "list", "--name"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "--name needs a value (--name TEXT)");
}

TEST(Options, ValueOfTheWrongKindIsNamed) {
  auto parsed = Parse({"agency", "list", "--limit", "ten"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "--limit: 'ten' is not a whole number");
  parsed = Parse({"key", "create", "--name=x", "--role=centre", "--rate=fast"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("--rate"));
}

TEST(Options, DoubleDashEndsTheOptions) {
  auto parsed = Parse({"agency", "get", "--", "--P22"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->args.positional(0), "--P22");
}

TEST(Options, JsonAndCsvTogetherAreRefused) {
  auto parsed = Parse({"key", "list", "--json", "--csv"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "choose one of -o, --json and --csv");
  auto csv = Parse({"key", "list", "--csv"});
  ASSERT_TRUE(csv.ok()) << csv.status();
  EXPECT_EQ(csv->output, Output::kCsv);
}

TEST(Options, OutputFormatByName) {
  for (const auto& [words, want] : std::vector<std::pair<std::vector<std::string>, Output>>{
           {{"agency", "list", "-o", "csv"}, Output::kCsv},
           {{"dossier", "list", "-o", "xlsx"}, Output::kXlsx},
           {{"-o", "json", "rank", "--scope", "VN", "--period", "2025", "--indicator", "on_time_rate"}, Output::kJson},
           {{"procedure", "list", "--output=table"}, Output::kTable},
           {{"report", "list", "-o=xlsx"}, Output::kXlsx},
       }) {
    auto parsed = Parse(words);
    ASSERT_TRUE(parsed.ok()) << absl::StrJoin(words, " ") << ": " << parsed.status();
    EXPECT_EQ(parsed->output, want) << absl::StrJoin(words, " ");
  }
  auto bad = Parse({"agency", "list", "-o", "yaml"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("-o: 'yaml' is not a format"));
  auto both = Parse({"agency", "list", "-o", "csv", "--json"});
  EXPECT_FALSE(both.ok());
  // A command without tables takes no -o.
  EXPECT_FALSE(Parse({"agency", "import", "x.csv", "-o", "csv"}).ok());
}

TEST(Options, EveryListAndTableCommandTakesEveryFormat) {
  for (const Command& command : Table()) {
    const std::string words = absl::StrJoin(command.words, " ");
    const bool lists = command.words.back() == "list" || words == "indicators" || words == "breakdown" ||
                       words == "series" || words == "rank" || words == "score" || words == "reconcile" ||
                       words == "silent" || words == "quality" || words == "indicator-list";
    if (!lists) continue;
    std::set<std::string> names;
    for (const OptionSpec& spec : AcceptedOptions(command)) names.insert(spec.name);
    EXPECT_TRUE(names.contains("output") && names.contains("csv") && names.contains("json")) << words;
  }
}

TEST(Completion, BashScriptKnowsCommandsAndOptions) {
  Ran ran = RunLine(Table(), {"completion", "bash"});
  EXPECT_EQ(ran.code, 0) << ran.err;
  EXPECT_THAT(ran.out, HasSubstr("complete -o default -F _pstrack pstrack"));
  EXPECT_THAT(ran.out, HasSubstr("\"agency\") COMPREPLY=($(compgen -W \""));
  EXPECT_THAT(ran.out, HasSubstr("--root"));
  EXPECT_THAT(ran.out, HasSubstr("--output"));
  // Every command's first word is offered at the start.
  for (const Command& command : Table()) EXPECT_THAT(ran.out, HasSubstr(command.words[0])) << UsageLine(command);
}

// ---- help ----

TEST(Help, CommandHelpListsItsOwnOptionsAndExitsZero) {
  Ran ran = RunLine(Table(), {"agency", "list", "--help"});
  EXPECT_EQ(ran.code, 0);
  EXPECT_TRUE(ran.err.empty()) << ran.err;
  EXPECT_THAT(ran.out, HasSubstr("Usage: pstrack agency list [--root CODE]"));
  for (const char* option : {"--root CODE", "--depth N", "--level L", "--as_of DATE", "--name TEXT", "--limit N",
                             "--json", "--server HOST:PORT", "--api_key_file FILE"}) {
    EXPECT_THAT(ran.out, HasSubstr(option));
  }
  EXPECT_THAT(ran.out, Not(HasSubstr("--scope")));
  // A list exports: -o table|csv|json|xlsx, --csv and --json.
  EXPECT_THAT(ran.out, HasSubstr("--output FORMAT  -o: table, csv, json, or xlsx"));
  EXPECT_THAT(ran.out, HasSubstr("--csv"));
}

TEST(Help, HelpWordAndHelpOptionAgree) {
  Ran word = RunLine(Table(), {"help", "rank"});
  Ran option = RunLine(Table(), {"rank", "--help"});
  EXPECT_EQ(word.code, 0);
  EXPECT_EQ(word.out, option.out);
  EXPECT_THAT(option.out, HasSubstr("--indicator ID"));
  EXPECT_THAT(option.out, HasSubstr("--methodology ID"));
  EXPECT_THAT(option.out, HasSubstr("--csv"));
}

TEST(Help, HelpNeedsNoOtherArgument) {
  // agency get without its CODE is a usage error, but not when asking for help.
  Ran ran = RunLine(Table(), {"agency", "get", "--help"});
  EXPECT_EQ(ran.code, 0);
  EXPECT_THAT(ran.out, HasSubstr("Usage: pstrack agency get CODE"));
  ran = RunLine(Table(), {"silent", "--help"});
  EXPECT_THAT(ran.out, HasSubstr("--working_days N"));
  EXPECT_THAT(ran.out, HasSubstr("(default 3)"));
}

TEST(Help, GlobalHelpListsEveryCommandFromTheTable) {
  Ran ran = RunLine(Table(), {"--help"});
  EXPECT_EQ(ran.code, 0);
  for (const Command& command : Table()) {
    EXPECT_THAT(ran.out, HasSubstr("\n  " + absl::StrJoin(command.words, " ") + " ")) << UsageLine(command);
    EXPECT_THAT(ran.out, HasSubstr(command.summary));
  }
  // Long usage lines are folded, and keep their options whole.
  EXPECT_THAT(ran.out, HasSubstr("  key create --name TEXT --role centre|analyst|admin [--scope CODE]"));
  EXPECT_THAT(ran.out, HasSubstr("\n             [--certificate_only]"));
  for (absl::string_view line : absl::StrSplit(ran.out, '\n')) EXPECT_LE(line.size(), 110u) << line;
  EXPECT_EQ(RunLine(Table(), {"help"}).out, ran.out);
}

TEST(Help, NoCommandPrintsTheHelpAndExitsTwo) {
  Ran ran = RunLine(Table(), {});
  EXPECT_EQ(ran.code, kExitUsage);
  EXPECT_THAT(ran.out, HasSubstr("Usage: pstrack"));
}

TEST(Help, NounAloneListsItsCommands) {
  Ran ran = RunLine(Table(), {"key", "--help"});
  EXPECT_EQ(ran.code, 0);
  EXPECT_THAT(ran.out, HasSubstr("key create"));
  EXPECT_THAT(ran.out, HasSubstr("key revoke KEY_ID"));
  EXPECT_THAT(ran.out, Not(HasSubstr("agency list")));
}

TEST(Help, UnknownCommandWithoutHelpIsRefused) {
  Ran ran = RunLine(Table(), {"frobnicate"});
  EXPECT_EQ(ran.code, kExitUsage);
  EXPECT_EQ(ran.err, "pstrack: unknown command 'frobnicate'; run 'pstrack help'\n");
  EXPECT_TRUE(ran.out.empty());
}

TEST(Help, Version) {
  Ran ran = RunLine(Table(), {"agency", "list", "--version"});
  EXPECT_EQ(ran.code, 0);
  EXPECT_TRUE(absl::StartsWith(ran.out, "pstrack ")) << ran.out;
  EXPECT_THAT(ran.out, HasSubstr("(commit "));
}

// ---- RunCli with a table of test commands (no call reaches a server) ----

class RunCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("PSTRACK_API_KEY_FILE");
    unsetenv("PSTRACK_API_KEY");
    table_.push_back({.words = {"echo"},
                      .group = "Test",
                      .positionals = {"TEXT"},
                      .summary = "prints TEXT, --times times",
                      .options = {IntOption("times", "N", "How often", 1)},
                      .run = [](Context& ctx, const Args& args) -> absl::StatusOr<int> {
                        for (int i = 0; i < args.Int("times"); ++i) ctx.out << args.positional(0) << "\n";
                        return ctx.output == Output::kJson ? 7 : kExitOk;
                      }});
    table_.push_back({.words = {"fail"},
                      .group = "Test",
                      .summary = "fails",
                      .run = [](Context&, const Args&) -> absl::StatusOr<int> {
                        return WithExitCode(absl::UnavailableError("no server"), kExitUsage);
                      }});
  }
  std::vector<Command> table_;
};

TEST_F(RunCliTest, RunsTheHandlerWithItsArguments) {
  Ran ran = RunLine(table_, {"echo", "hi", "--times=2"});
  EXPECT_EQ(ran.code, 0) << ran.err;
  EXPECT_EQ(ran.out, "hi\nhi\n");
  // The handler's exit status is the program's.
  EXPECT_EQ(RunLine(table_, {"--json", "echo", "hi"}).code, 7);
}

TEST_F(RunCliTest, AnErrorIsOneLineWithItsExitStatus) {
  Ran ran = RunLine(table_, {"fail"});
  EXPECT_EQ(ran.code, kExitUsage);
  EXPECT_EQ(ran.err, "pstrack: no server\n");
  ran = RunLine(table_, {"echo", "hi", "--times=x"});
  EXPECT_EQ(ran.code, kExitFailure);
  EXPECT_EQ(ran.err, "pstrack: --times: 'x' is not a whole number\n");
}

TEST_F(RunCliTest, UnreadableKeyFileStopsBeforeTheHandler) {
  Ran ran = RunLine(table_, {"echo", "hi", "--api_key_file=/nonexistent/pstrack.key"});
  EXPECT_EQ(ran.code, kExitFailure);
  EXPECT_EQ(ran.err, "pstrack: cannot read '/nonexistent/pstrack.key'\n");
  EXPECT_TRUE(ran.out.empty());
}

TEST_F(RunCliTest, ClientCertificateWithoutCaIsAUsageError) {
  Ran ran = RunLine(table_, {"echo", "hi", "--tls_cert=c.pem"});
  EXPECT_EQ(ran.code, kExitUsage);
  EXPECT_THAT(ran.err, HasSubstr("--tls_cert needs --tls_ca"));
}

// ---- shared options as request fields ----

Args MeasuredArgs() { return Args(Join(ScopeOptions("scope"), PeriodOptions())); }

TEST(RequestOptions, ScopeIsRequiredAndReadInTodaysTree) {
  Args args = MeasuredArgs();
  auto missing = ScopeFromArgs(args);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("needs --scope CODE"));
  args.Set("scope", "P22");
  auto scope = ScopeFromArgs(args);
  ASSERT_TRUE(scope.ok()) << scope.status();
  EXPECT_EQ(scope->agency_code(), "P22");
  EXPECT_EQ(scope->tree_view(), v1::TREE_VIEW_CURRENT);
  args.Set("as_filed", "true");
  EXPECT_EQ(ScopeFromArgs(args)->tree_view(), v1::TREE_VIEW_AS_FILED);
}

TEST(RequestOptions, PeriodAsALabelOrARange) {
  Args label = MeasuredArgs();
  label.Set("period", "2025-Q3");
  auto period = PeriodFromArgs(label);
  ASSERT_TRUE(period.ok()) << period.status();
  EXPECT_EQ(period->label(), "2025-Q3");

  Args range = MeasuredArgs();
  range.Set("from", "2025-07-10");
  range.Set("until", "2025-09-01");
  period = PeriodFromArgs(range);
  ASSERT_TRUE(period.ok()) << period.status();
  EXPECT_EQ(PeriodText(period->range()), "2025-07-10 to 2025-08-31");

  range.Set("period", "2025");
  EXPECT_EQ(PeriodFromArgs(range).status().message(), "give either --period or --from and --until, not both");
  Args half = MeasuredArgs();
  half.Set("from", "2025-07-10");
  EXPECT_THAT(std::string(PeriodFromArgs(half).status().message()), HasSubstr("this command needs --period"));
  Args bad = MeasuredArgs();
  bad.Set("from", "2025-02-30");
  bad.Set("until", "2025-03-01");
  EXPECT_THAT(std::string(PeriodFromArgs(bad).status().message()), HasSubstr("--from"));
}

TEST(RequestOptions, AsOfAndLevel) {
  Args args({AsOfOption("date"), LevelOption("level")});
  auto none = AsOfFromArgs(args);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  args.Set("as_of", "2025-07-01");
  auto date = AsOfFromArgs(args);
  ASSERT_TRUE(date.ok() && date->has_value());
  EXPECT_EQ(DateText(**date, true), "2025-07-01");
  args.Set("as_of", "2025-13-01");
  EXPECT_THAT(std::string(AsOfFromArgs(args).status().message()), HasSubstr("--as_of"));
  EXPECT_EQ(*LevelFromArgs(args), 0);
  args.Set("level", "province");
  EXPECT_EQ(LevelText(*LevelFromArgs(args)), "province");
  args.Set("level", "village");
  EXPECT_THAT(std::string(LevelFromArgs(args).status().message()), HasSubstr("--level"));
}

TEST(Output, PeriodTextNamesCalendarPeriods) {
  auto range = [](const char* from, const char* until) {
    Args args(PeriodOptions());
    args.Set("from", from);
    args.Set("until", until);
    return PeriodFromArgs(args)->range();
  };
  EXPECT_EQ(PeriodText(range("2025-01-01", "2026-01-01")), "2025");
  EXPECT_EQ(PeriodText(range("2025-07-01", "2025-10-01")), "2025-Q3");
  EXPECT_EQ(PeriodText(range("2025-07-01", "2025-08-01")), "2025-07");
  EXPECT_EQ(PeriodText(range("2025-07-15", "2025-07-16")), "2025-07-15");
  EXPECT_EQ(NumberText(3), "3");
  EXPECT_EQ(NumberText(2.5), "2.50");
  EXPECT_EQ(PercentText(0.125), "12.50%");
}

// ---- files the commands read ----

TEST(Inputs, EventsFromCsvKeepTheirLinesAndReportBadOnes) {
  const std::string text =
      "event_id,dossier_code,agency_code,procedure_code,occurred_at,kind,channel\n"
      "c1,P22.HALONG-250602-0002,P22.HALONG,1.000689,2025-06-02 16:00,received,in_person\n"
      "c2,P22.HALONG-250602-0002,P22.HALONG,,2025-06-04,feedback,\n"
      "c3,P22.HALONG-250602-0002,P22.HALONG,,2025-06-03 09:00,supplement_requested,\n";
  std::ostringstream out;
  int rejected = 0;
  auto events = ParseEvents("events.csv", text, out, &rejected);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].line, 2);
  EXPECT_EQ((*events)[0].event.event_id(), "c1");
  EXPECT_EQ((*events)[0].event.received().channel(), v1::CHANNEL_IN_PERSON);
  EXPECT_EQ((*events)[1].line, 4);
  EXPECT_EQ(rejected, 1);
  EXPECT_TRUE(absl::StartsWith(out.str(), "line 3: occurred_at:")) << out.str();
}

TEST(Inputs, SemicolonSeparatedCsvIsReadAsSuch) {
  const std::string path = ::testing::TempDir() + "/semicolons.csv";
  {
    std::ofstream f(path, std::ios::binary);
    // Excel's "CSV" in a Vietnamese locale: ';', a BOM, a quoted ';', an
    // empty line, a decimal comma left as it is.
    f << "\xEF\xBB\xBF" << "code;name;level\r\nP22.A;\"Phường; Hạ Long\";commune\r\n\r\nP22.B;Xã B;2,5\r\n";
  }
  std::ostringstream notes;
  auto text = ReadInput(path, notes);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(notes.str(), HasSubstr("separated by ';'"));
  auto records = ParseCsv(*text);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[1].fields, (std::vector<std::string>{"P22.A", "Phường; Hạ Long", "commune"}));
  EXPECT_EQ((*records)[2].fields, (std::vector<std::string>{"P22.B", "Xã B", "2,5"}));
  EXPECT_EQ((*records)[2].line, 4);  // line numbers kept for the error reports
  // A ','-separated file is left as it is.
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << "code,name\nP22,\"a; b\"\n";
  }
  std::ostringstream none;
  auto same = ReadInput(path, none);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, "code,name\nP22,\"a; b\"\n");
  EXPECT_TRUE(none.str().empty());
}

TEST(Inputs, EventsFromJsonLines) {
  const std::string text =
      "{\"event_id\": \"j1\", \"dossier_code\": \"D1\", \"agency_code\": \"P22\", \"resolved\": {}}\n"
      "\n"
      "this is not json\n"
      "{\"event_id\": \"j2\", \"dossier_code\": \"D1\", \"agency_code\": \"P22\", \"resolved\": {}}\n";
  std::ostringstream out;
  int rejected = 0;
  auto events = ParseEvents("events.jsonl", text, out, &rejected);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].line, 4);
  EXPECT_EQ((*events)[1].event.event_id(), "j2");
  EXPECT_EQ(rejected, 1);
  EXPECT_TRUE(absl::StartsWith(out.str(), "line 3: not a FilingEvent in JSON")) << out.str();
}

TEST(Inputs, ReportRowsLeaveEmptyCellsUnreported) {
  auto table = CsvTable::Parse(
      "report_id,agency_code,period,received,received_online,finished,source\n"
      "r1,P22.MONGCAI1,2025,50,,40,Hệ thống\n"
      "r2,P22.MONGCAI1,2025,5x,,1,\n",
      ReportColumns());
  ASSERT_TRUE(table.ok()) << table.status();
  auto rows = table->Rows();
  auto report = ReportFromRow(*table, rows[0]);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->received(), 50);
  EXPECT_FALSE(report->has_received_online());
  EXPECT_EQ(report->source(), "Hệ thống");
  EXPECT_EQ(ReportFromRow(*table, rows[1]).status().message(), "received: '5x' is not a whole number");
}

TEST(Inputs, ReportColumnsMustBeReportFields) {
  auto table =
      CsvTable::Parse("report_id,agency_code,period,received,finished,revision\nr,P22,2025,1,1,3\n", ReportColumns());
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(ReportFromRow(*table, table->Rows()[0]).status().message(),
            "revision: not a report column (see docs/api.md, PeriodicReport)");
}

TEST(Inputs, ExternalInputRows) {
  auto table = CsvTable::Parse(
      "input_id,agency_code,indicator_id,start,end,numerator,denominator,value,source\n"
      "i1,P22,sipas,2025-01-01,2026-01-01,,,0.8,SIPAS\n"
      "i2,P22,sipas,2025-01-01,2026-01-01,x,,,\n"
      "i3,P22,sipas,2025-01-01,2025-02-30,,,1,\n",
      ExternalInputColumns());
  ASSERT_TRUE(table.ok()) << table.status();
  auto rows = table->Rows();
  auto input = ExternalInputFromRow(rows[0]);
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_DOUBLE_EQ(input->value(), 0.8);
  EXPECT_DOUBLE_EQ(input->numerator(), 0);
  EXPECT_EQ(PeriodText(input->period()), "2025");
  EXPECT_EQ(ExternalInputFromRow(rows[1]).status().message(), "numerator: 'x' is not a number");
  EXPECT_THAT(std::string(ExternalInputFromRow(rows[2]).status().message()), HasSubstr("end"));
}

TEST(Calls, ImportSummaryCountsAndExitStatus) {
  std::vector<v1::ItemResult> results(3);
  results[0].set_outcome(v1::ItemResult::OUTCOME_APPLIED);
  results[1].set_outcome(v1::ItemResult::OUTCOME_UNCHANGED);
  results[2].set_outcome(v1::ItemResult::OUTCOME_REJECTED);
  results[2].set_source_line(4);
  results[2].set_message("level: bad");
  std::ostringstream out;
  EXPECT_EQ(PrintImportResults(out, results, 1, "agencies"), kExitFailure);
  EXPECT_EQ(out.str(), "line 4: level: bad\nagencies: 1 applied, 1 unchanged, 2 rejected\n");
  std::ostringstream clean;
  EXPECT_EQ(PrintImportResults(clean, {results[0]}, 0, "agencies"), kExitOk);
}

}  // namespace
}  // namespace pstrack::cli
