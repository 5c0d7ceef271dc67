// PostgresStore: reading stored results back, one part per query, so a
// result of any size passes through the hub in pieces no larger than a part
// (max_part_bytes), however many rows it has.
#include "store/postgres/pg_records.hpp"
#include "store/postgres/pg_store.hpp"

namespace outpost::hub::pg {

namespace {

// Calls `fn(line)` for each '\n'-terminated line of `body` from line number
// `skip` on; stops when fn returns false. Returns false if stopped.
template <typename Fn>
bool for_lines(std::string_view body, std::uint64_t skip, Fn&& fn) {
  std::uint64_t index = 0;
  for (std::size_t pos = 0; pos < body.size();) {
    std::size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    if (index++ >= skip && !fn(body.substr(pos, end - pos))) return false;
    pos = end + 1;
  }
  return true;
}

const Statement& part_body_statement() {
  static const Statement st{"part_body",
                            "SELECT body FROM job_parts WHERE job_seq = $1 AND seq = $2"};
  return st;
}

}  // namespace

bool PostgresStore::read_parts(const std::string& job_id, const PartSink& sink) {
  static const Statement list_st{"parts_list",
                                 "SELECT seq FROM job_parts WHERE job_seq = $1 ORDER BY seq"};
  auto conn = pool_.acquire();
  const auto seq = job_seq(*conn, job_id);
  if (!seq) return false;
  // The list of part numbers is small (one integer per part); bodies come
  // one at a time.
  auto list = conn->run(list_st, {std::to_string(*seq)});
  for (int i = 0; i < PQntuples(list.get()); ++i) {
    const auto part = int64(list.get(), i, 0);
    auto body = conn->run(part_body_statement(), {std::to_string(*seq), std::to_string(part)});
    if (PQntuples(body.get()) == 0) continue;  // deleted meanwhile (a new attempt)
    const std::string_view text(PQgetvalue(body.get(), 0, 0),
                                static_cast<std::size_t>(PQgetlength(body.get(), 0, 0)));
    if (!sink(static_cast<std::uint64_t>(part), text)) break;
  }
  return true;
}

std::optional<std::uint64_t> PostgresStore::read_rows(const std::string& job_id,
                                                      std::uint64_t offset, std::uint64_t limit,
                                                      const LineSink& sink) {
  // Each part row carries its line count, so the parts holding lines
  // offset..offset+limit-1 are found without reading any body.
  static const Statement span_st{
      "parts_span",
      "SELECT seq, first FROM (SELECT seq, lines, "
      "sum(lines) OVER (ORDER BY seq) - lines AS first FROM job_parts WHERE job_seq = $1) p "
      "WHERE first + lines > $2::bigint AND first < $2::bigint + $3::bigint AND lines > 0 ORDER BY "
      "seq"};
  auto conn = pool_.acquire();
  const auto seq = job_seq(*conn, job_id);
  if (!seq) return std::nullopt;
  std::uint64_t given = 0;
  if (limit == 0) return given;
  auto span =
      conn->run(span_st, {std::to_string(*seq), std::to_string(offset), std::to_string(limit)});
  for (int i = 0; i < PQntuples(span.get()) && given < limit; ++i) {
    const auto part = int64(span.get(), i, 0);
    const auto first = static_cast<std::uint64_t>(int64(span.get(), i, 1));
    auto body = conn->run(part_body_statement(), {std::to_string(*seq), std::to_string(part)});
    if (PQntuples(body.get()) == 0) continue;
    const std::string_view text(PQgetvalue(body.get(), 0, 0),
                                static_cast<std::size_t>(PQgetlength(body.get(), 0, 0)));
    const bool more =
        for_lines(text, offset > first ? offset - first : 0, [&](std::string_view line) {
          if (given >= limit) return false;
          ++given;
          return sink(line);
        });
    if (!more) break;
  }
  return given;
}

}  // namespace outpost::hub::pg
