// Calls that take more than one request: a list page by page, the items of
// a file to a batch call a chunk at a time; and the summary an import prints.
#ifndef PSTRACK_TOOLS_CLI_CALLS_H_
#define PSTRACK_TOOLS_CLI_CALLS_H_

#include <algorithm>
#include <functional>
#include <ostream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "pstrack/v1/common.pb.h"
#include "services/common/status.h"
#include "tools/cli/client.h"
#include "tools/cli/exit_code.h"

namespace pstrack::cli {

// Appends the rows of page after page to `all`, until the last page or
// until `limit` rows (0: all), asking for at most 1000 rows a page.
// `rows(response)` is the response's repeated field; `call(context,
// request, response)` is the stub's method.
template <typename Request, typename Response, typename Rows, typename Call>
absl::Status FetchPages(const Client& client, Request& request, int limit, Rows rows, Call call, Response* all) {
  do {
    request.set_page_size(limit > 0 ? std::min(1000, limit - rows(*all)->size()) : 1000);
    Response page;
    PSTRACK_RETURN_IF_ERROR(client.Run([&](grpc::ClientContext* context) { return call(context, request, &page); }));
    for (auto& row : *rows(page)) *rows(*all)->Add() = std::move(row);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty() && (limit == 0 || rows(*all)->size() < limit));
  return absl::OkStatus();
}

// Where a result's file line comes from.
enum class ResultLines {
  kFromServer,  // the items carry their line and the server echoes it
  kFromIndex,   // the sender maps each result's index to the line it recorded
};

// Items go into request(); Added(line) after each sends a full chunk. Call
// Flush() after the last.
template <typename Request, typename Response>
class BatchSender {
 public:
  using Call = std::function<grpc::Status(grpc::ClientContext*, const Request&, Response*)>;

  BatchSender(const Client& client, size_t chunk, ResultLines lines, Call call)
      : client_(client), chunk_(chunk), lines_from_(lines), call_(std::move(call)) {}

  Request& request() { return request_; }

  absl::Status Added(int line) {
    lines_.push_back(line);
    return lines_.size() == chunk_ ? Flush() : absl::OkStatus();
  }

  absl::Status Flush() {
    if (lines_.empty()) return absl::OkStatus();
    Response response;
    PSTRACK_RETURN_IF_ERROR(
        client_.Run([&](grpc::ClientContext* context) { return call_(context, request_, &response); }));
    for (v1::ItemResult r : response.results()) {
      if (lines_from_ == ResultLines::kFromIndex && r.index() >= 0 && static_cast<size_t>(r.index()) < lines_.size()) {
        r.set_source_line(lines_[r.index()]);
      }
      results_.push_back(std::move(r));
    }
    request_.Clear();
    lines_.clear();
    return absl::OkStatus();
  }

  const std::vector<v1::ItemResult>& results() const { return results_; }

 private:
  const Client& client_;
  const size_t chunk_;
  const ResultLines lines_from_;
  const Call call_;
  Request request_;
  std::vector<int> lines_;  // the file line of each item in request_
  std::vector<v1::ItemResult> results_;
};

// Prints "line N: why" for each rejected result and the counts
// ("agencies: 3 applied, 0 unchanged, 1 rejected"; `rejected_here` lines
// were refused before sending). Returns the exit status: 1 if any line was
// rejected.
int PrintImportResults(std::ostream& out, const std::vector<v1::ItemResult>& results, int rejected_here,
                       const char* noun);

}  // namespace pstrack::cli

#endif  // PSTRACK_TOOLS_CLI_CALLS_H_
