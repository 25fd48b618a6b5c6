/// @file fill_model.hpp
/// @brief The paper broker's seeded fill model: slippage and fill probabilities.
///
/// Modelled on NautilusTrader's `FillModel` (`prob_fill_on_limit`, `prob_slippage`,
/// `random_seed`), plus a deterministic slippage in basis points. Pure: no clock, no
/// I/O; the only state is a splitmix64 generator seeded by the caller, so the same
/// seed and the same sequence of calls give the same answers on every platform and
/// standard library (no std::*_distribution, whose output is implementation-defined).
///
/// Randomness is drawn only for a probability strictly between 0 and 1: with the
/// defaults (prob_slippage 0, prob_fill_on_limit 1) the generator is never used.
/// Thread-safety: none (single owner). Never throws.
#pragma once

#include <cstdint>
#include <optional>

#include "core/decimal.hpp"
#include "core/enums.hpp"

namespace matching {

/// splitmix64 (G. Steele, D. Lea, C. Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014; S. Vigna's reference C code). 64-bit state, period 2^64.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

/// Rounds `px` (> 0) up / down to a multiple of `step` (> 0).
core::Price round_up_to(core::Price px, core::Price step);
core::Price round_down_to(core::Price px, core::Price step);

class FillModel {
 public:
  /// `slippage_bps` >= 0; probabilities in [0, 1] (matching::validate checks them).
  FillModel(core::Decimal slippage_bps, core::Decimal prob_slippage, core::Decimal prob_fill_on_limit,
            std::uint64_t seed) noexcept;

  /// A resting limit whose price the market reached exactly (not through): does it fill
  /// this time? True with probability prob_fill_on_limit (draws only if 0 < p < 1).
  bool fill_at_limit();

  /// The price a liquidity-taking fill (market order, triggered stop) gets when the
  /// touch is `px`: `slippage_bps` worse (buy higher, sell lower), rounded away from
  /// the trader to `tick` when given, else to 8 digits (the Decimal's resolution);
  /// then, with probability prob_slippage and only when `tick` is given, one tick
  /// worse still. A sell never goes below the smallest positive price (one tick, or
  /// 10^-8). With slippage_bps 0 and prob_slippage 0, returns `px` unchanged.
  core::Price slip(core::Price px, core::Side side, std::optional<core::Price> tick);

  /// Random numbers drawn so far (diagnostics and tests).
  std::uint64_t draws() const noexcept { return draws_; }

 private:
  bool chance(core::Decimal p);

  core::Decimal slippage_bps_;
  core::Decimal prob_slippage_;
  core::Decimal prob_fill_on_limit_;
  SplitMix64 rng_;
  std::uint64_t draws_ = 0;
};

}  // namespace matching
