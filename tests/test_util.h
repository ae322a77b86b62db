// Helpers shared by the Catch2 suites: vector files, hex.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"

namespace medallion::testing {

inline std::string VectorPath(const std::string& rel) {
  return std::string(MEDALLION_VECTORS_DIR) + "/" + rel;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline nlohmann::json ReadJsonVector(const std::string& rel) {
  return nlohmann::json::parse(ReadFile(VectorPath(rel)));
}

inline Bytes Hex(std::string_view h) {
  auto r = HexDecode(h);
  if (!r) throw std::runtime_error("bad hex in test: " + std::string(h));
  return *r;
}

}  // namespace medallion::testing
