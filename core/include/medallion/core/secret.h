// SecretBytes: key material in sodium-allocated, locked memory, wiped on destruction.
//
// Not copyable (Clone() is explicit), no stream operator, and the bytes are reachable only
// through Reveal(), so every use of a secret can be found with `grep Reveal`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "medallion/core/bytes.h"

namespace medallion {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size);  // zero-filled
  // Copies `data` into secret memory. The caller wipes its own copy.
  static SecretBytes CopyFrom(ByteView data);
  ~SecretBytes();

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;

  SecretBytes Clone() const { return CopyFrom(Reveal()); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  std::span<const uint8_t> Reveal() const { return {data_, size_}; }
  std::span<uint8_t> RevealMutable() { return {data_, size_}; }

 private:
  void Release();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Wipes a buffer the compiler cannot optimise the wipe away from (sodium_memzero).
void SecureWipe(void* data, size_t size);

// A std::string that wipes its buffer on destruction (passphrases, mnemonics).
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string s) : s_(std::move(s)) {}
  ~SecretString() { SecureWipe(s_.data(), s_.size()); }
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  SecretString(SecretString&& o) noexcept : s_(std::move(o.s_)) {}
  SecretString& operator=(SecretString&& o) noexcept {
    SecureWipe(s_.data(), s_.size());
    s_ = std::move(o.s_);
    return *this;
  }
  const std::string& Reveal() const { return s_; }
  std::string& RevealMutable() { return s_; }
  bool empty() const { return s_.empty(); }

 private:
  std::string s_;
};

}  // namespace medallion
