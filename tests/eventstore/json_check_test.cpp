// MemoryStore validates payloads like PostgreSQL's jsonb; this table checks
// the validator, and the integration case checks the same table against jsonb.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "eventstore/json_check.hpp"
#include "servers.hpp"

namespace {

struct Case {
  std::string text;
  bool valid;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> k{
      {"{}", true},
      {"[]", true},
      {" \t\r\n{ \"a\" : [ 1 , 2 ] } \n", true},
      {R"({"type":"order.submit","quantity":"100","price":101.25,"n":null,"ok":true,"no":false})", true},
      {"0", true},
      {"-0.5e+10", true},
      {"1E5", true},
      {R"("plain string")", true},
      {R"("escapes \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00")", true},
      {"\"raw utf-8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", true},
      {"[[[[[[[[[[1]]]]]]]]]]", true},
      {"", false},
      {"   ", false},
      {"{", false},
      {"}", false},
      {R"({"a":})", false},
      {R"({"a" 1})", false},
      {R"({"a":1,})", false},
      {"[1,]", false},
      {"[1 2]", false},
      {R"({a:1})", false},
      {"'single'", false},
      {"01", false},
      {"1.", false},
      {".5", false},
      {"+1", false},
      {"1e", false},
      {"NaN", false},
      {"tru", false},
      {"nul", false},
      {"{} {}", false},
      {"\"unterminated", false},
      {"\"tab\tinside\"", false},
      {R"("bad escape \x")", false},
      {R"("short \u12")", false},
      {R"("nul \u0000")", false},
      {R"("lone high \ud83d")", false},
      {R"("lone low \ude00")", false},
      {"\"bad utf-8 \xc3\x28\"", false},
      {"\"overlong \xc0\xaf\"", false},
      {"\"surrogate \xed\xa0\x80\"", false},
      {"\"too big \xf4\x90\x80\x80\"", false},
      {"\"truncated \xe2\x82\"", false},
  };
  return k;
}

}  // namespace

TEST_CASE("is_valid_json accepts JSON and refuses what jsonb refuses", "[eventstore][json]") {
  for (const auto& c : cases()) {
    INFO("input: " << c.text);
    CHECK(eventstore::detail::is_valid_json(c.text) == c.valid);
  }
}

TEST_CASE("is_valid_json handles deep nesting without recursion", "[eventstore][json]") {
  CHECK(eventstore::detail::is_valid_json(std::string(5000, '[') + std::string(5000, ']')));
  CHECK_FALSE(eventstore::detail::is_valid_json(std::string(5000, '[') + std::string(4999, ']')));
  CHECK_FALSE(eventstore::detail::is_valid_json(std::string(100000, '[') + std::string(100000, ']')));
}

TEST_CASE("is_valid_json agrees with PostgreSQL jsonb on every case", "[.integration][eventstore][json]") {
  testsupport::PgServer pg;
  pqxx::connection c(pg.reader_url());
  for (const auto& cs : cases()) {
    INFO("input: " << cs.text);
    bool pg_valid = true;
    try {
      pqxx::work w(c);
      w.exec_params("SELECT $1::text::jsonb", cs.text);
    } catch (const pqxx::data_exception&) {
      pg_valid = false;
    } catch (const pqxx::sql_error&) {
      pg_valid = false;  // e.g. 22021 invalid byte sequence for encoding
    }
    CHECK(pg_valid == cs.valid);
  }
}
