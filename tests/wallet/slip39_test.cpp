// SLIP-0039 tests: the Trezor vectors (valid and invalid rows), Split/Combine round trips over
// every quorum of several group layouts, and parameter and input errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "medallion/core/env.h"
#include "medallion/wallet/slip39.h"
#include "test_util.h"

namespace {

using medallion::Bytes;
using medallion::ByteView;
using medallion::SecretBytes;
using medallion::SecretString;
using medallion::SeededRng;
using medallion::StatusCode;
using medallion::testing::Hex;
using medallion::testing::ReadJsonVector;
namespace slip39 = medallion::wallet::slip39;

using Groups = std::vector<std::vector<SecretString>>;

Bytes ToBytes(const SecretBytes& s) { return Bytes(s.Reveal().begin(), s.Reveal().end()); }

// An invalid input must fail with invalid_argument and a "slip39: " reason.
void RequireRejected(const medallion::Status& st, std::string_view reason_part) {
  INFO(st.ToString());
  REQUIRE(st.code() == StatusCode::kInvalidArgument);
  REQUIRE(st.message().rfind("slip39: ", 0) == 0);
  REQUIRE(st.message().find(reason_part) != std::string::npos);
}

// For each invalid kind of Trezor vector (a phrase of its description), the reason it must give.
constexpr std::array<std::pair<std::string_view, std::string_view>, 15> kExpectedReasons = {{
    {"invalid checksum", "invalid checksum"},
    {"invalid padding", "invalid padding"},
    {"different identifiers", "different identifiers"},
    {"different iteration exponents", "different iteration exponents"},
    {"mismatching group thresholds", "different group thresholds"},
    {"mismatching group counts", "different group counts"},
    {"greater group threshold than group counts", "exceeds group count"},
    {"duplicate member indices", "duplicate member"},
    {"mismatching member thresholds", "different member thresholds"},
    {"invalid digest", "invalid digest"},
    {"Insufficient number of groups", "insufficient number of groups"},
    {"insufficient number of members", "insufficient number of shares"},
    {"insufficient length", "invalid mnemonic length"},
    {"invalid master secret length", "invalid mnemonic length"},
    {"Basic sharing 2-of-3", "insufficient number of shares"},
}};

std::string_view ExpectedReason(std::string_view description) {
  for (const auto& [phrase, reason] : kExpectedReasons) {
    if (description.find(phrase) != std::string_view::npos) return reason;
  }
  return "";
}

// All subsets of {0..n-1} with exactly k elements, as bit masks.
std::vector<uint32_t> Combinations(int n, int k) {
  std::vector<uint32_t> out;
  for (uint32_t m = 0; m < (1u << n); ++m) {
    if (std::popcount(m) == k) out.push_back(m);
  }
  return out;
}

// The mnemonics of `groups` selected by one member mask per chosen group.
std::vector<std::string> Pick(const Groups& groups,
                              const std::vector<std::pair<size_t, uint32_t>>& selection) {
  std::vector<std::string> out;
  for (const auto& [g, mask] : selection) {
    for (size_t m = 0; m < groups[g].size(); ++m) {
      if (mask & (1u << m)) out.push_back(groups[g][m].Reveal());
    }
  }
  return out;
}

struct Layout {
  const char* name;
  uint8_t group_threshold;
  std::vector<slip39::GroupSpec> groups;
};

const std::vector<Layout>& Layouts() {
  static const std::vector<Layout> layouts = {
      {"1-of-1", 1, {{1, 1}}},
      {"2-of-3", 1, {{2, 3}}},
      {"2 of groups {2of3, 3of5, 1of1}", 2, {{2, 3}, {3, 5}, {1, 1}}},
      {"1 of groups {1of1, 2of3}", 1, {{1, 1}, {2, 3}}},
  };
  return layouts;
}

}  // namespace

TEST_CASE("SLIP-39 Trezor vectors combine or fail as listed", "[wallet][slip39]") {
  // Rows: [description, mnemonics, master_secret_hex, xprv]; passphrase "TREZOR". The xprv
  // column (BIP-32 master key of the secret) is checked by the BIP-32 suite, not here.
  static const nlohmann::json rows = ReadJsonVector("slip39/trezor-vectors.json");
  REQUIRE(rows.size() >= 45);
  const size_t i = GENERATE(range(size_t{0}, rows.size()));
  const std::string description = rows[i][0].get<std::string>();
  const std::vector<std::string> mnemonics = rows[i][1].get<std::vector<std::string>>();
  const std::string secret_hex = rows[i][2].get<std::string>();
  INFO(description);

  auto r = slip39::Combine(mnemonics, "TREZOR");
  if (!secret_hex.empty()) {
    INFO((r ? std::string("ok") : r.error().ToString()));
    REQUIRE(r.has_value());
    CHECK(ToBytes(*r) == Hex(secret_hex));
    // Every share of a valid row also parses on its own.
    for (const std::string& m : mnemonics) CHECK(slip39::DecodeShare(m).has_value());
  } else {
    REQUIRE_FALSE(r.has_value());
    const std::string_view reason = ExpectedReason(description);
    REQUIRE_FALSE(reason.empty());  // every invalid row has a known kind
    RequireRejected(r.error(), reason);
  }
}

TEST_CASE("SLIP-39 extendable vectors carry the flag", "[wallet][slip39]") {
  static const nlohmann::json rows = ReadJsonVector("slip39/trezor-vectors.json");
  for (const auto& row : rows) {
    const std::string description = row[0].get<std::string>();
    if (row[2].get<std::string>().empty()) continue;
    INFO(description);
    const bool extendable = description.find("xtendable") != std::string::npos;
    for (const auto& m : row[1]) {
      auto share = slip39::DecodeShare(m.get<std::string>());
      REQUIRE(share.has_value());
      CHECK(share->extendable == extendable);
    }
  }
}

TEST_CASE("SLIP-39 round trips over every quorum", "[wallet][slip39]") {
  const size_t layout_index = GENERATE(range(size_t{0}, Layouts().size()));
  const size_t secret_len = GENERATE(size_t{16}, size_t{32});
  const bool extendable = GENERATE(true, false);
  const Layout& layout = Layouts()[layout_index];
  INFO(layout.name << ", " << secret_len << " bytes, extendable=" << extendable);

  SeededRng rng(0x5139'0000 + layout_index * 100 + secret_len + extendable);
  const Bytes secret = rng.RandomBytes(secret_len);
  const std::string passphrase = "TREZOR pass phrase ~!";
  auto split = slip39::Split(secret, passphrase, layout.group_threshold, layout.groups, rng,
                             /*iteration_exponent=*/0, extendable);
  REQUIRE(split.has_value());
  const Groups& groups = *split;
  REQUIRE(groups.size() == layout.groups.size());

  // Shape and metadata of every share (SLIP-0039 §Format of the share mnemonic).
  const size_t expected_words = secret_len == 16 ? 20 : 33;
  std::optional<uint16_t> identifier;
  for (size_t g = 0; g < groups.size(); ++g) {
    REQUIRE(groups[g].size() == layout.groups[g].member_count);
    for (size_t m = 0; m < groups[g].size(); ++m) {
      const std::string& text = groups[g][m].Reveal();
      CHECK(static_cast<size_t>(std::count(text.begin(), text.end(), ' ')) + 1 == expected_words);
      auto share = slip39::DecodeShare(text);
      REQUIRE(share.has_value());
      if (!identifier) identifier = share->identifier;
      CHECK(share->identifier == *identifier);
      CHECK(share->extendable == extendable);
      CHECK(share->iteration_exponent == 0);
      CHECK(share->group_index == g);
      CHECK(share->group_threshold == layout.group_threshold);
      CHECK(share->group_count == groups.size());
      CHECK(share->member_index == m);
      CHECK(share->member_threshold == layout.groups[g].member_threshold);
      CHECK(share->value.size() == secret_len);
    }
  }

  // Every choice of group_threshold groups, and in each every exact member quorum.
  const int group_count = static_cast<int>(groups.size());
  size_t quorums = 0;
  for (uint32_t group_mask : Combinations(group_count, layout.group_threshold)) {
    std::vector<std::vector<std::pair<size_t, uint32_t>>> selections = {{}};
    for (int g = 0; g < group_count; ++g) {
      if (!(group_mask & (1u << g))) continue;
      std::vector<std::vector<std::pair<size_t, uint32_t>>> next;
      for (uint32_t members :
           Combinations(layout.groups[g].member_count, layout.groups[g].member_threshold)) {
        for (const auto& s : selections) {
          auto extended = s;
          extended.emplace_back(g, members);
          next.push_back(std::move(extended));
        }
      }
      selections = std::move(next);
    }
    for (const auto& selection : selections) {
      const std::vector<std::string> mnemonics = Pick(groups, selection);
      auto combined = slip39::Combine(mnemonics, passphrase);
      INFO((combined ? std::string("ok") : combined.error().ToString()));
      REQUIRE(combined.has_value());
      CHECK(ToBytes(*combined) == secret);
      ++quorums;

      // One member short in any group of the quorum: not enough shares or groups.
      for (size_t k = 0; k < mnemonics.size(); ++k) {
        std::vector<std::string> fewer = mnemonics;
        fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(k));
        if (fewer.empty()) {
          RequireRejected(slip39::Combine(fewer, passphrase).error(), "no mnemonics");
          continue;
        }
        auto short_result = slip39::Combine(fewer, passphrase);
        REQUIRE_FALSE(short_result.has_value());
        RequireRejected(short_result.error(), "insufficient number of");
      }
    }
  }
  CHECK(quorums > 0);

  // A different passphrase is not detected (SLIP-0039 §Passphrase): it yields another secret.
  const std::vector<std::string> first_quorum = Pick(groups, [&] {
    std::vector<std::pair<size_t, uint32_t>> sel;
    for (int g = 0; g < layout.group_threshold; ++g) {
      sel.emplace_back(g, (1u << layout.groups[g].member_threshold) - 1);
    }
    return sel;
  }());
  auto other = slip39::Combine(first_quorum, "another passphrase");
  REQUIRE(other.has_value());
  CHECK(ToBytes(*other) != secret);
}

TEST_CASE("SLIP-39 combine needs exactly the thresholds", "[wallet][slip39]") {
  SeededRng rng(39);
  const Bytes secret = rng.RandomBytes(16);
  auto split = slip39::Split(secret, "", 2, {{2, 3}, {3, 5}, {1, 1}}, rng, 0, true);
  REQUIRE(split.has_value());
  const Groups& g = *split;

  SECTION("an extra member in a group") {
    auto r = slip39::Combine(Pick(g, {{0, 0b111}, {2, 0b1}}), "");
    REQUIRE_FALSE(r.has_value());
    RequireRejected(r.error(), "too many shares in group 1");
  }
  SECTION("an extra group") {
    auto r = slip39::Combine(Pick(g, {{0, 0b011}, {1, 0b00111}, {2, 0b1}}), "");
    REQUIRE_FALSE(r.has_value());
    RequireRejected(r.error(), "too many groups");
  }
  SECTION("the same share twice") {
    std::vector<std::string> m = Pick(g, {{0, 0b011}, {2, 0b1}});
    m.push_back(m[0]);
    auto r = slip39::Combine(m, "");
    REQUIRE_FALSE(r.has_value());
    RequireRejected(r.error(), "duplicate member");
  }
  SECTION("a complete group but too few members in the other") {
    auto r = slip39::Combine(Pick(g, {{1, 0b00011}, {2, 0b1}}), "");
    REQUIRE_FALSE(r.has_value());
    RequireRejected(r.error(), "insufficient number of shares in group 2");
  }
  SECTION("shares of two different splits") {
    auto again = slip39::Split(secret, "", 2, {{2, 3}, {3, 5}, {1, 1}}, rng, 0, true);
    REQUIRE(again.has_value());
    std::vector<std::string> m = Pick(g, {{0, 0b011}});
    m.push_back((*again)[2][0].Reveal());
    auto r = slip39::Combine(m, "");
    REQUIRE_FALSE(r.has_value());
    RequireRejected(r.error(), "different identifiers");
  }
}

TEST_CASE("SLIP-39 mnemonic parsing", "[wallet][slip39]") {
  SeededRng rng(7);
  const Bytes secret = rng.RandomBytes(32);
  auto split = slip39::Split(secret, "", 1, {{1, 1}}, rng, 0, false);
  REQUIRE(split.has_value());
  const std::string mnemonic = (*split)[0][0].Reveal();

  SECTION("case and surrounding whitespace do not matter") {
    std::string noisy = "  ";
    for (char c : mnemonic) noisy += c == ' ' ? std::string(" \t\n") : std::string(1, c - 32);
    noisy += "\r\n";
    auto r = slip39::Combine({noisy}, "");
    REQUIRE(r.has_value());
    CHECK(ToBytes(*r) == secret);
  }
  SECTION("a replaced word breaks the checksum") {
    std::string tampered = mnemonic;
    const size_t space = tampered.find(' ', tampered.find(' ', tampered.find(' ') + 1) + 1);
    const size_t end = tampered.find(' ', space + 1);
    const std::string word = tampered.substr(space + 1, end - space - 1);
    tampered.replace(space + 1, end - space - 1, word == "academic" ? "acid" : "academic");
    auto r = slip39::Combine({tampered}, "");
    REQUIRE_FALSE(r.has_value());
    RequireRejected(r.error(), "mnemonic 1: invalid checksum");
  }
  SECTION("an unknown word is named by position, not by content") {
    std::string bad = mnemonic;
    bad.replace(0, bad.find(' '), "qwertyzz");
    auto r = slip39::Combine({bad}, "");
    REQUIRE_FALSE(r.has_value());
    RequireRejected(r.error(), "word 1 is not in the SLIP-0039 word list");
    CHECK(r.error().message().find("qwertyzz") == std::string::npos);
    CHECK_FALSE(slip39::DecodeShare("academic acid acne\xff").has_value());
    CHECK_FALSE(slip39::DecodeShare(std::string("acid\0", 5)).has_value());
  }
  SECTION("truncated and overlong mnemonics") {
    // 33 words less one is no whole number of 16-bit units; less two is, but fails the checksum.
    const std::string less_one = mnemonic.substr(0, mnemonic.rfind(' '));
    const std::string less_two = less_one.substr(0, less_one.rfind(' '));
    RequireRejected(slip39::DecodeShare(less_one).error(), "invalid mnemonic length");
    RequireRejected(slip39::DecodeShare(less_two).error(), "invalid checksum");
    RequireRejected(slip39::DecodeShare(mnemonic + " academic").error(), "invalid mnemonic length");
    RequireRejected(slip39::DecodeShare("").error(), "invalid mnemonic length");
  }
  SECTION("empty input and bad passphrase") {
    RequireRejected(slip39::Combine({}, "").error(), "no mnemonics");
    RequireRejected(slip39::Combine({mnemonic}, "caf\xc3\xa9").error(), "printable ASCII");
  }
}

TEST_CASE("SLIP-39 default iteration exponent and long secrets", "[wallet][slip39]") {
  SeededRng rng(64);
  // BIP-32 seeds may be up to 64 bytes; SLIP-0039 only requires >= 128 bits, multiple of 16.
  const Bytes secret = rng.RandomBytes(64);
  auto split = slip39::Split(secret, "x", 1, {{2, 2}}, rng);
  REQUIRE(split.has_value());
  auto share = slip39::DecodeShare((*split)[0][0].Reveal());
  REQUIRE(share.has_value());
  CHECK(share->iteration_exponent == 1);
  CHECK(share->extendable);
  auto r = slip39::Combine({(*split)[0][1].Reveal(), (*split)[0][0].Reveal()}, "x");
  REQUIRE(r.has_value());
  CHECK(ToBytes(*r) == secret);
}

TEST_CASE("SLIP-39 split rejects parameters out of range", "[wallet][slip39]") {
  SeededRng rng(1);
  const Bytes s16 = rng.RandomBytes(16);
  auto split = [&](ByteView secret, std::string_view pass, uint8_t gt,
                   std::vector<slip39::GroupSpec> groups, uint8_t e = 0) {
    auto r = slip39::Split(secret, pass, gt, groups, rng, e);
    REQUIRE_FALSE(r.has_value());
    return r.error();
  };
  RequireRejected(split(s16, "", 1, {{4, 3}}), "member threshold must be 1..3");
  RequireRejected(split(s16, "", 1, {{0, 3}}), "member threshold must be 1..3");
  RequireRejected(split(s16, "", 1, {{1, 3}}), "member threshold 1 with more than one member");
  RequireRejected(split(s16, "", 1, {{2, 17}}), "member count must be 1..16");
  RequireRejected(split(s16, "", 1, {{1, 0}}), "member count must be 1..16");
  RequireRejected(split(s16, "", 3, {{1, 1}, {2, 2}}), "group threshold must be 1..2");
  RequireRejected(split(s16, "", 0, {{1, 1}}), "group threshold must be 1..1");
  RequireRejected(split(s16, "", 1, {}), "group count must be 1..16");
  RequireRejected(split(s16, "", 1, std::vector<slip39::GroupSpec>(17, {1, 1})),
                  "group count must be 1..16");
  RequireRejected(split(s16, "", 1, {{1, 1}}, 16), "iteration exponent");
  RequireRejected(split(ByteView(s16).first(14), "", 1, {{1, 1}}), "at least 128 bits");
  RequireRejected(split(rng.RandomBytes(17), "", 1, {{1, 1}}), "multiple of 16 bits");
  RequireRejected(split(rng.RandomBytes(15), "", 1, {{1, 1}}), "at least 128 bits");
  RequireRejected(split(s16, "caf\xc3\xa9", 1, {{1, 1}}), "printable ASCII");
  RequireRejected(split(s16, "tab\there", 1, {{1, 1}}), "printable ASCII");
}
